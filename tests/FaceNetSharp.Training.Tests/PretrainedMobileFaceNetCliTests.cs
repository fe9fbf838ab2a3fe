using System.Diagnostics;
using FaceNetSharp.Models;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// Fine-tuning the installed MobileFaceNet as a new user tries it (issue 9, paper cut 4): <c>--pretrained-model
/// mobilefacenet</c> names the installed model, and the flags its weights fix (architecture, input size, embedding
/// size 192, fixed standardisation) are taken from it instead of failing on a weight shape; a flag given explicitly
/// with another value is an error naming the flag and the value that fits. <c>facenet</c> in its own process.
/// </summary>
public sealed class PretrainedMobileFaceNetCliTests
{
    private static (int ExitCode, string Output) Run(TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(CliLibtorchTests.CliDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"facenet did not finish in {limit}:\n{stdout}");
        }
        return (p.ExitCode, stdout + stderr.Result);
    }

    /// <summary>The installed MobileFaceNet's store, or a skip (the test must not download it).</summary>
    private static ModelStore InstalledStore()
    {
        var store = new ModelStore();
        Skip.IfNot(store.IsInstalled(ModelNames.MobileFaceNet), $"mobilefacenet is not installed in {store.Directory} (facenet models install)");
        return store;
    }

    [SkippableFact]
    public void Fine_tuning_the_installed_mobilefacenet_takes_its_sizes_from_the_model()
    {
        var store = InstalledStore();
        var root = Directory.CreateTempSubdirectory("fns-finetune-");
        try
        {
            var data = TrainerTests.SmallDataset(root, 4, 6);
            var models = Path.Combine(root.FullName, "models");
            var (code, output) = Run(TimeSpan.FromMinutes(5), "train", "softmax", "--data-dir", data, "--pretrained-model", "mobilefacenet",
                "--models-dir", store.Directory, "--batch-size", "8", "--epoch-size", "2", "--max-nrof-epochs", "1", "--optimizer", "ADAM",
                "--learning-rate", "0.0001", "--logs-base-dir", Path.Combine(root.FullName, "logs"), "--models-base-dir", models);
            Assert.True(code == 0, output);
            Assert.Contains($"from the pretrained model {store.PathOf(ModelNames.MobileFaceNet)}: " +
                "--model-def mobilefacenet --image-size 112 --embedding-size 192 --use-fixed-image-standardization true", output);
            Assert.Contains($"Restored pretrained weights from {store.PathOf(ModelNames.MobileFaceNet)}", output);
            var run = Directory.GetDirectories(models).Single();
            var card = ModelCard.Read(Path.Combine(run, Path.GetFileName(run) + ".card.json"));
            Assert.Equal([null, 192L], card.Outputs[0].Shape);
            Assert.Equal([null, 3L, 112L, 112L], card.Input.Shape);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void An_explicit_embedding_size_that_does_not_fit_names_the_flag_and_the_size_that_does()
    {
        var store = InstalledStore();
        var root = Directory.CreateTempSubdirectory("fns-finetune-");
        try
        {
            var data = TrainerTests.SmallDataset(root, 2, 2);
            var (code, output) = Run(TimeSpan.FromMinutes(2), "train", "softmax", "--data-dir", data, "--pretrained-model", "mobilefacenet",
                "--models-dir", store.Directory, "--embedding-size", "128", "--models-base-dir", Path.Combine(root.FullName, "models"),
                "--logs-base-dir", Path.Combine(root.FullName, "logs"));
            Assert.Equal(2, code);
            Assert.Contains($"--embedding-size 128 does not fit --pretrained-model {store.PathOf(ModelNames.MobileFaceNet)}, which needs --embedding-size 192", output);
            Assert.DoesNotContain("   at ", output);
            Assert.False(Directory.Exists(Path.Combine(root.FullName, "models")));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
