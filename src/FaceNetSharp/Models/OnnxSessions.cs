using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Models;

/// <summary>How every network is opened: CPU by default, settings measured in ../shared/docs/STACK.md.</summary>
internal static class OnnxSessions
{
    /// <summary>Default run options, shared: ONNX Runtime's Run needs an instance, and it holds no per-call state.</summary>
    public static RunOptions DefaultRun { get; } = new();

    /// <summary>
    /// Sequential execution, all graph optimisations, one inter-op thread and the CPU provider (STACK.md: the settings
    /// of the measured ONNX Runtime figures), with <paramref name="intraOpThreads"/> threads inside a run.
    /// </summary>
    public static SessionOptions CreateOptions(int intraOpThreads) =>
        CreateOptions(new InferenceOptions { ExecutionProvider = InferenceOptions.Cpu, IntraOpThreads = intraOpThreads }, intraOpThreads);

    /// <summary>
    /// The session options <paramref name="inference"/> asks for: all graph optimisations; sequential execution
    /// unless more than one inter-op thread is asked; <paramref name="defaultIntraOpThreads"/> (the component's
    /// default) when it leaves intra-op threads open; its execution provider appended by name. With
    /// <paramref name="sharedCpuArena"/> (and the arena on, on the CPU provider) the sessions opened with these options
    /// draw their working memory from one process-wide arena (<see cref="SharedCpuArena"/>) instead of one each.
    /// </summary>
    /// <exception cref="NotSupportedException">The ONNX Runtime loaded here lacks the provider (the message names the ones it has).</exception>
    public static SessionOptions CreateOptions(InferenceOptions inference, int defaultIntraOpThreads, bool sharedCpuArena = false)
    {
        ArgumentNullException.ThrowIfNull(inference);
        int intra = inference.IntraOpThreads ?? defaultIntraOpThreads;
        ArgumentOutOfRangeException.ThrowIfNegative(intra, nameof(InferenceOptions.IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inference.InterOpThreads, nameof(InferenceOptions.InterOpThreads));
        bool arena = inference.CpuMemoryArena;
        if (Environment.GetEnvironmentVariable("FACENETSHARP_ORT_ARENA") is { } env) arena = env != "off";
        var so = NativeRuntime(() => new SessionOptions
        {
            IntraOpNumThreads = intra,
            InterOpNumThreads = inference.InterOpThreads,
            ExecutionMode = inference.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableCpuMemArena = arena,
            EnableMemoryPattern = arena,
        });
        if (sharedCpuArena && arena && IsCpu(inference) && SharedCpuArena.Value)
            so.AddSessionConfigEntry("session.use_env_allocators", "1");
        try
        {
            AppendProvider(so, inference);
        }
        catch
        {
            so.Dispose();
            throw;
        }
        return so;
    }

    private static bool IsCpu(InferenceOptions inference) =>
        inference.ExecutionProvider?.Trim() is null or "" || inference.ExecutionProvider.Trim().Equals(InferenceOptions.Cpu, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One CPU arena registered with ONNX Runtime's environment (<c>CreateAndRegisterAllocator</c>, ONNX Runtime's
    /// default arena settings), for the sessions whose options ask for it (<c>session.use_env_allocators</c>); false
    /// where it cannot be registered (e.g. the app registered its own), and those sessions keep an arena each.
    /// </summary>
    /// <remarks>
    /// Why: each session's arena grows by doubling to its own peak and keeps it, so MTCNN's three sessions held three
    /// peaks, most of it P-Net's. With one arena for the three, `facenet align` on 20 1080p frames peaked at 198 MB against
    /// 235 MB with one worker, and 223-240 MB against 239-253 MB with two (PRelu rewritten as in <see cref="PReluRewrite"/>,
    /// whose extra intermediate tensors had raised the per-session peaks; same CPU time). Measured with /usr/bin/time on
    /// bench/align-vs-facenet-pytorch.sh's frames, 2026-11-30. ONNX Runtime's arena is thread-safe (one lock).
    /// </remarks>
    private static readonly Lazy<bool> SharedCpuArena = new(() =>
    {
        try
        {
            using var info = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
            // max_mem 0, extend strategy 0 (kNextPowerOfTwo), initial chunk and max dead bytes -1: ONNX Runtime's defaults
            using var cfg = new OrtArenaCfg(0, 0, -1, -1);
            OrtEnv.Instance().CreateAndRegisterAllocator(info, cfg);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    });

    /// <summary>
    /// Appends the provider <see cref="InferenceOptions.ExecutionProvider"/> names (nothing for the CPU, ONNX
    /// Runtime's fallback anyway), after checking that the loaded ONNX Runtime has it: a CPU-only package would
    /// otherwise fail with a bare native error, or not at all.
    /// </summary>
    private static void AppendProvider(SessionOptions so, InferenceOptions inference)
    {
        string name = inference.ExecutionProvider?.Trim() ?? "";
        if (name.Length == 0 || name.Equals(InferenceOptions.Cpu, StringComparison.OrdinalIgnoreCase)) return;
        // ONNX Runtime's names: CUDAExecutionProvider, OpenVINOExecutionProvider, ...
        string full = name.EndsWith("ExecutionProvider", StringComparison.OrdinalIgnoreCase) ? name : name + "ExecutionProvider";
        var available = OrtEnv.Instance().GetAvailableProviders();
        if (!available.Contains(full, StringComparer.OrdinalIgnoreCase))
            throw new NotSupportedException(
                $"execution provider '{name}' is not in the ONNX Runtime loaded here ({typeof(SessionOptions).Assembly.GetName().Version}), " +
                $"which has {string.Join(", ", available)}. " +
                (name.Equals(InferenceOptions.Cuda, StringComparison.OrdinalIgnoreCase)
                    ? "For CUDA, reference the Microsoft.ML.OnnxRuntime.Gpu package (or .Gpu.Linux / .Gpu.Windows) in place of Microsoft.ML.OnnxRuntime, with CUDA and cuDNN installed; "
                    : "Reference the ONNX Runtime package built with it; ") +
                $"or ask for '{InferenceOptions.Cpu}' ({InferenceOptions.ExecutionProviderVariable} or InferenceOptions.ExecutionProvider).");
        try
        {
            if (name.Equals(InferenceOptions.Cuda, StringComparison.OrdinalIgnoreCase))
                so.AppendExecutionProvider_CUDA(inference.DeviceId);
            else
                so.AppendExecutionProvider(name, inference.ProviderOptions?.ToDictionary() ?? []);
        }
        catch (OnnxRuntimeException e)
        {
            // The package has the provider but it cannot start here (e.g. no GPU, or CUDA/cuDNN libraries missing).
            throw new NotSupportedException($"execution provider '{name}' could not be started: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the first call into ONNX Runtime's native library; its absence (this library references the managed API
    /// alone, the app adds the native package) is an <see cref="InvalidOperationException"/> saying which package to add.
    /// </summary>
    private static T NativeRuntime<T>(Func<T> first)
    {
        try
        {
            return first();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException
            || e is TypeInitializationException { InnerException: DllNotFoundException or EntryPointNotFoundException })
        {
            throw new InvalidOperationException(
                "ONNX Runtime's native library (onnxruntime) is not in this program: add the package Microsoft.ML.OnnxRuntime " +
                "(CPU), or Microsoft.ML.OnnxRuntime.Gpu.Linux / .Gpu.Windows (CUDA), to the app that uses FaceNetSharp", e);
        }
    }

    /// <summary>
    /// Opens a model file; a missing or unreadable file, or one whose SHA-256 differs from its card's
    /// (<see cref="ModelIntegrity"/>), is a <see cref="ModelInstallException"/> naming it and the cause. With
    /// <paramref name="rewrite"/> the checked bytes are rewritten in memory (e.g. <see cref="PReluRewrite"/>) before
    /// ONNX Runtime reads them; the file stays as it is.
    /// </summary>
    public static InferenceSession Open(string path, SessionOptions options, Func<byte[], byte[]>? rewrite = null)
    {
        if (!File.Exists(path))
            throw new ModelInstallException($"model file not found: {path}", ModelProblem.FileMissing, path);
        ModelIntegrity.Verify(path);
        try
        {
            if (rewrite is null) return new InferenceSession(path, options);
            return new InferenceSession(rewrite(File.ReadAllBytes(path)), options);
        }
        catch (InvalidDataException e)
        {
            throw new ModelInstallException($"{path} is not a usable ONNX model: {e.Message}", ModelProblem.Damaged, path, e);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelInstallException($"{path} is not a usable ONNX model: {e.Message}", ModelProblem.Damaged, path, e);
        }
    }

    /// <summary>
    /// Opens a model from a stream of ONNX bytes (read to its end; the caller disposes it). With
    /// <paramref name="sha256"/> (a card's <see cref="ModelCard.OnnxSha256"/>) the bytes are checked against it first: a
    /// difference is a <see cref="ModelInstallException"/> (<see cref="ModelProblem.Damaged"/>) naming the model.
    /// <paramref name="rewrite"/> as for a path.
    /// </summary>
    public static InferenceSession Open(Stream model, string name, string? sha256, SessionOptions options, Func<byte[], byte[]>? rewrite = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes;
        using (var copy = new MemoryStream())
        {
            model.CopyTo(copy);
            bytes = copy.ToArray();
        }
        if (sha256 is not null)
        {
            var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
                throw new ModelInstallException($"model {name} (from a stream) is damaged: its SHA-256 is {actual}, but its card says {sha256}",
                    ModelProblem.Damaged, null);
        }
        try
        {
            return new InferenceSession(rewrite is null ? bytes : rewrite(bytes), options);
        }
        catch (InvalidDataException e)
        {
            throw new ModelInstallException($"model {name} (from a stream) is not a usable ONNX model: {e.Message}", ModelProblem.Damaged, null, e);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelInstallException($"model {name} (from a stream) is not a usable ONNX model: {e.Message}", ModelProblem.Damaged, null, e);
        }
    }
}
