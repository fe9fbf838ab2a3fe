using System.Diagnostics;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// STACK.md: libtorch stays out of the inference path. The CLI references the training assembly, so this checks, in a
/// separate process with the dynamic loader's trace (LD_DEBUG=libs), that <c>facenet detect</c> never loads
/// libtorch or libLibTorchSharp while it does load ONNX Runtime; and, as a control, that <c>facenet train</c> does.
/// </summary>
public sealed class CliLibtorchTests
{
    internal static string CliDll()
    {
        var config = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(TorchTest.RepoRoot, "src", "FaceNetSharp.Cli", "bin", config, "net10.0", "facenet.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built (the test project builds it through its project reference)");
        return dll;
    }

    private static (int ExitCode, string LoaderTrace) RunTraced(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(CliDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LD_DEBUG"] = "libs";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        _ = stdout.Result;
        return (p.ExitCode, stderr);
    }

    [SkippableFact]
    public void Detect_does_not_load_libtorch()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "LD_DEBUG is glibc's");
        var models = Path.Combine(Environment.GetEnvironmentVariable("FACENETSHARP_MODELS_DIR")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "facenetsharp", "models"));
        Skip.IfNot(File.Exists(Path.Combine(models, "mtcnn-pnet.onnx")), "the MTCNN models are not installed");
        var root = TorchTest.Shared("faces", "kz-celebs-talgin", "our_dataset");
        var image = Directory.GetFiles(Directory.GetDirectories(root).Order(StringComparer.Ordinal).First()).Order(StringComparer.Ordinal).First();
        var (code, trace) = RunTraced("detect", image);
        Assert.Equal(0, code);
        Assert.Contains("libonnxruntime", trace);
        Assert.DoesNotContain("libtorch", trace);
        Assert.DoesNotContain("LibTorchSharp", trace);
    }

    [SkippableFact]
    public void Train_loads_libtorch_and_reports_a_missing_data_folder_in_one_line()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "LD_DEBUG is glibc's");
        var missing = Path.Combine(Path.GetTempPath(), "fns-no-such-folder-" + Guid.NewGuid().ToString("N"));
        var (code, trace) = RunTraced("train", "softmax", "--data_dir", missing, "--model-def", "mobilefacenet", "--image-size", "112");
        Assert.Equal(2, code);
        Assert.Contains("LibTorchSharp", trace);
    }
}
