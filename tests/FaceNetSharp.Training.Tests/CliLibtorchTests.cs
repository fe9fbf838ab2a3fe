using System.Diagnostics;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// STACK.md: libtorch stays out of the inference path. The facenet tool does not carry it (training is the add-on
/// facenet-train), and this checks, in a separate process with the dynamic loader's trace (LD_DEBUG=libs), that
/// <c>facenet detect</c> never loads libtorch or libLibTorchSharp while it does load ONNX Runtime; and, as a control,
/// that <c>facenet train</c> does, through the add-on it runs (found here as the repository's build of it).
/// </summary>
public sealed class CliLibtorchTests
{
    private static string Built(string project, string dllName)
    {
        var config = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(TorchTest.RepoRoot, "src", project, "bin", config, "net10.0", dllName);
        Assert.True(File.Exists(dll), $"{dll} was not built (the test project builds it through its project reference)");
        return dll;
    }

    /// <summary>The facenet tool's program (no libtorch).</summary>
    internal static string FacenetDll() => Built("FaceNetSharp.Cli", "facenet.dll");

    /// <summary>The training add-on's program, facenet-train, which takes facenet's train and models import commands.</summary>
    internal static string CliDll() => Built("FaceNetSharp.Training.Cli", "facenet-train.dll");

    private static (int ExitCode, string LoaderTrace) RunTraced(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(FacenetDll());
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
