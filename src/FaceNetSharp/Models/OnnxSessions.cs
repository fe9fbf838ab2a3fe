using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Models;

/// <summary>How every network is opened: CPU by default, settings measured in ../shared/docs/STACK.md.</summary>
internal static class OnnxSessions
{
    /// <summary>Default run options, shared: ONNX Runtime's Run needs an instance, and it holds no per-call state.</summary>
    public static RunOptions DefaultRun { get; } = new();

    /// <summary>
    /// Whether sessions opened from now on keep ONNX Runtime's CPU memory arena (and memory patterns). The arena
    /// keeps the most a session ever needed for the rest of its life; a long-lived process that sees the odd large
    /// image (the server) turns it off so that memory goes back after the request. Process-wide.
    /// <c>FACENETSHARP_ORT_ARENA=on|off</c> overrides it, to measure what the arena does (scripts/server-memory.sh).
    /// </summary>
    public static bool CpuMemoryArena { get; set; } = true;

    /// <summary>
    /// Sequential execution, all graph optimisations, one inter-op thread (STACK.md: the settings of the measured
    /// ONNX Runtime figures). Set <c>FACENETSHARP_EXECUTION_PROVIDER=cuda</c> to use the CUDA provider where the
    /// ONNX Runtime package in use has it (the default CPU package does not).
    /// </summary>
    public static SessionOptions CreateOptions(int intraOpThreads)
    {
        bool arena = CpuMemoryArena;
        if (Environment.GetEnvironmentVariable("FACENETSHARP_ORT_ARENA") is { } env) arena = env != "off";
        var so = NativeRuntime(() => new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            EnableCpuMemArena = arena,
            EnableMemoryPattern = arena,
        });
        if (string.Equals(Environment.GetEnvironmentVariable("FACENETSHARP_EXECUTION_PROVIDER"), "cuda", StringComparison.OrdinalIgnoreCase))
            so.AppendExecutionProvider_CUDA();
        return so;
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
    /// (<see cref="ModelIntegrity"/>), is a <see cref="ModelInstallException"/> naming it and the cause.
    /// </summary>
    public static InferenceSession Open(string path, SessionOptions options)
    {
        if (!File.Exists(path))
            throw new ModelInstallException($"model file not found: {path}", ModelProblem.FileMissing, path);
        ModelIntegrity.Verify(path);
        try
        {
            return new InferenceSession(path, options);
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
    /// </summary>
    public static InferenceSession Open(Stream model, string name, string? sha256, SessionOptions options)
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
            return new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelInstallException($"model {name} (from a stream) is not a usable ONNX model: {e.Message}", ModelProblem.Damaged, null, e);
        }
    }
}
