using FaceNetSharp.Models;
using FaceNetSharp.Tests.Cli;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// A model file that no longer matches the SHA-256 on its card (one byte changed in a copy of the installed store) is
/// refused when a session opens it, with the file, the cause and the repair command, and <c>models list</c> shows it
/// as damaged (issue 9, integrity).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class ModelIntegrityTests(InstalledModelsFixture fx)
{
    private static string Hopkins(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");

    /// <summary>A copy of the installed store in <paramref name="tmp"/>, with one byte of <paramref name="damaged"/>.onnx flipped.</summary>
    private string CopyStore(TempFolder tmp, string? damaged)
    {
        var store = fx.Require();
        var dir = tmp.Combine("models");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.EnumerateFiles(store.Directory))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        if (damaged is not null)
        {
            var path = Path.Combine(dir, damaged + ".onnx");
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x40; // inside the weights: ONNX Runtime still loads the file
            File.WriteAllBytes(path, bytes);
        }
        return dir;
    }

    [SkippableFact]
    public void Compare_refuses_a_damaged_embedder_with_the_file_the_cause_and_the_repair()
    {
        using var tmp = new TempFolder();
        var dir = CopyStore(tmp, ModelNames.MobileFaceNet);

        foreach (var format in new[] { "table", "json" })
        {
            var r = CliRunner.Run("compare", "--models-dir", dir, "--format", format, Hopkins(1), Hopkins(2));
            Assert.True(r.ExitCode == 2, r.Console);
            Assert.Contains(Path.Combine(dir, "mobilefacenet.onnx"), r.Console);
            Assert.Contains("is damaged: its SHA-256 is", r.Console);
            Assert.Contains($"facenet models install --force --models-dir {dir}", r.Console);
            Assert.DoesNotContain("NaN", r.Console + r.Out);
            Assert.DoesNotContain("different people", r.Console);
            Assert.DoesNotContain("   at ", r.Console); // no stack trace
            Assert.Equal("", r.Out);
        }
    }

    [SkippableFact]
    public void A_damaged_detector_network_is_refused_too()
    {
        using var tmp = new TempFolder();
        var dir = CopyStore(tmp, ModelNames.MtcnnONet);

        var r = CliRunner.Run("compare", "--models-dir", dir, Hopkins(1), Hopkins(2));
        Assert.True(r.ExitCode == 2, r.Console);
        Assert.Contains(Path.Combine(dir, "mtcnn-onet.onnx") + " is damaged", r.Console);
    }

    [SkippableFact]
    public void Models_list_shows_a_damaged_model_as_damaged()
    {
        using var tmp = new TempFolder();
        var dir = CopyStore(tmp, ModelNames.MobileFaceNet);

        var r = CliRunner.Run("models", "list", "--models-dir", dir);
        Assert.Equal(1, r.ExitCode);
        var row = r.Console.Split('\n').Single(l => l.Contains("│ mobilefacenet"));
        Assert.Contains("damaged", row);
        Assert.Contains(Path.Combine(dir, "mobilefacenet.onnx") + " is damaged", r.Console);
        Assert.Contains("installed", r.Console.Split('\n').Single(l => l.Contains("│ mtcnn-pnet")));

        var store = new ModelStore(dir);
        Assert.Equal(ModelStatus.Damaged, store.Check(ModelNames.MobileFaceNet).Status);
        Assert.Equal(ModelStatus.Installed, store.Check(ModelNames.DlibResNet).Status);
    }

    [SkippableFact]
    public void An_intact_copy_passes_and_an_unreadable_card_is_damaged()
    {
        using var tmp = new TempFolder();
        var dir = CopyStore(tmp, damaged: null);
        var store = new ModelStore(dir);
        foreach (var name in ModelNames.All) Assert.Equal(ModelStatus.Installed, store.Check(name).Status);
        Assert.Equal(0, CliRunner.Run("models", "list", "--models-dir", dir).ExitCode);

        File.WriteAllText(store.CardPathOf(ModelNames.MobileFaceNet), "{ not json");
        var (status, problem) = store.Check(ModelNames.MobileFaceNet);
        Assert.Equal(ModelStatus.Damaged, status);
        Assert.Contains(store.CardPathOf(ModelNames.MobileFaceNet), problem);
        Assert.Equal(1, CliRunner.Run("models", "list", "--models-dir", dir).ExitCode);
    }

    [SkippableFact]
    public void A_file_rewritten_after_it_was_checked_is_checked_again()
    {
        using var tmp = new TempFolder();
        var dir = CopyStore(tmp, damaged: null);
        using (FaceRecognizer.Open("mobilefacenet", dir)) { } // hashes and remembers the intact file

        var path = Path.Combine(dir, "mobilefacenet.onnx");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1)); // a new write time even on a coarse clock

        var e = Assert.Throws<ModelInstallException>(() => FaceRecognizer.Open("mobilefacenet", dir));
        Assert.Contains("is damaged", e.Message);
        // the library says what is wrong, and leaves the remedy to the program (the CLI prints 'facenet models install --force')
        Assert.DoesNotContain("facenet models", e.Message);
        Assert.Equal(ModelProblem.Damaged, e.Problem);
        Assert.Equal(path, e.ModelPath);
    }
}
