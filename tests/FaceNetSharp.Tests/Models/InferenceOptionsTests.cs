using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Models;
using FaceNetSharp.Tests.Cli;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// Session options come from the options objects (<see cref="InferenceOptions"/> in <see cref="MtcnnOptions"/> and
/// <see cref="EmbedderOptions"/>); FACENETSHARP_EXECUTION_PROVIDER is only the default provider. The test machine's
/// ONNX Runtime is the CPU package, so asking for CUDA must fail clearly, naming what to install.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class InferenceOptionsTests(InstalledModelsFixture models)
{
    [Fact]
    public void Threads_and_the_arena_reach_the_session_options()
    {
        using (var so = OnnxSessions.CreateOptions(new InferenceOptions { ExecutionProvider = "cpu", IntraOpThreads = 3, InterOpThreads = 2, CpuMemoryArena = false }, 1))
        {
            Assert.Equal(3, so.IntraOpNumThreads);
            Assert.Equal(2, so.InterOpNumThreads);
            Assert.Equal(ExecutionMode.ORT_PARALLEL, so.ExecutionMode);
            if (Environment.GetEnvironmentVariable("FACENETSHARP_ORT_ARENA") is null) Assert.False(so.EnableCpuMemArena);
        }
        // Threads left open take the component's default (MTCNN 1, an embedder every core); one inter-op thread runs sequentially.
        using (var so = OnnxSessions.CreateOptions(new InferenceOptions { ExecutionProvider = "cpu" }, 5))
        {
            Assert.Equal(5, so.IntraOpNumThreads);
            Assert.Equal(1, so.InterOpNumThreads);
            Assert.Equal(ExecutionMode.ORT_SEQUENTIAL, so.ExecutionMode);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxSessions.CreateOptions(new InferenceOptions { InterOpThreads = 0 }, 1));
    }

    [SkippableFact]
    public void Cuda_from_the_options_is_refused_clearly_by_the_cpu_package_for_the_detector_and_the_embedder()
    {
        Skip.If(OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"), "this ONNX Runtime has CUDA");
        var store = models.Require();
        var cuda = new InferenceOptions { ExecutionProvider = "cuda" };

        var e = Assert.Throws<NotSupportedException>(() => new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet),
            Embedders.MobileFaceNet, new EmbedderOptions { Inference = cuda }));
        Assert.Contains("'cuda'", e.Message);
        Assert.Contains("CPUExecutionProvider", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message);

        var d = Assert.Throws<NotSupportedException>(() => MtcnnDetector.FromStore(store, new MtcnnOptions { Inference = cuda }));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", d.Message);

        // The same store opens on the CPU when asked by name.
        using var cpu = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), Embedders.MobileFaceNet,
            new EmbedderOptions { Inference = new InferenceOptions { ExecutionProvider = "CPU" } });
        Assert.Equal(192, cpu.Info.Dimensions);
    }

    [SkippableFact]
    public void The_environment_variable_is_the_default_provider_and_the_cli_says_what_to_install()
    {
        Skip.If(OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"), "this ONNX Runtime has CUDA");
        models.Require();
        var photo = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        var run = CliProcess.Run(["compare", photo, photo], env: new Dictionary<string, string> { [InferenceOptions.ExecutionProviderVariable] = "cuda" });
        Assert.True(run.ExitCode == 2, run.Both);
        Assert.Contains("execution provider 'cuda'", run.Stderr);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", run.Stderr);
        Assert.DoesNotContain("   at ", run.Both); // no stack trace without --verbose
        Assert.DoesNotContain("NotSupportedException", run.Both);
    }
}
