using System.Diagnostics;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// Issue 12: the facenet tool carries no libtorch; <c>facenet train</c> runs the training add-on (facenet-train) when it
/// finds it, with the same arguments and exit code, and otherwise says in two lines how to install it (exit code 2).
/// </summary>
public sealed class TrainingAddOnTests
{
    private static (int ExitCode, string Stdout, string Stderr) Facenet(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(CliLibtorchTests.FacenetDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "facenet did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void Without_the_add_on_train_says_how_to_install_it_in_two_lines_and_exits_2()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), "fns-no-addon-" + Guid.NewGuid().ToString("N"), "facenet-train");
        foreach (var args in new[] { new[] { "train", "softmax", "--data-dir", "x" }, ["--models-dir", "/tmp", "models", "import", "x.pt"], ["train", "--help"] })
        {
            var (code, stdout, stderr) = Facenet(new Dictionary<string, string> { ["FACENETSHARP_TRAINING_ADDON"] = nowhere }, args);
            Assert.True(code == 2, stdout + stderr);
            var lines = stderr.Trim().Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.Contains("facenet-train", lines[0]);
            Assert.Contains("dotnet tool install -g FaceNetSharp.Training.Cli", lines[1]);
            Assert.Equal("", stdout);
        }
    }

    [Fact]
    public void Train_runs_the_add_on_with_the_same_arguments_and_its_exit_code()
    {
        // the repository's build of the add-on, found beside the CLI's build output (no variable, no PATH)
        var (code, stdout, stderr) = Facenet(new Dictionary<string, string>(), "train", "softmax", "--help");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("--center-loss-factor", stdout);
        Assert.Contains("facenet-train", stdout); // the add-on's own usage line

        var named = Facenet(new Dictionary<string, string> { ["FACENETSHARP_TRAINING_ADDON"] = CliLibtorchTests.CliDll() },
            "train", "softmax", "--no-such-flag");
        Assert.Equal(2, named.ExitCode);
        Assert.Contains("--no-such-flag", named.Stderr);
    }
}
