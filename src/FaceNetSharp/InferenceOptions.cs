namespace FaceNetSharp;

/// <summary>
/// How ONNX Runtime runs a network: the execution provider, the threads, and the CPU memory arena. Given to the
/// detector (<see cref="Detection.MtcnnOptions.Inference"/>) and the embedder (<see cref="Embedding.EmbedderOptions.Inference"/>).
/// <code>
/// var gpu = new InferenceOptions { ExecutionProvider = "cuda" };   // needs the Microsoft.ML.OnnxRuntime.Gpu package
/// using var faces = FaceRecognizer.Open(detection: new() { Inference = gpu }, embedding: new() { Inference = gpu });
/// </code>
/// </summary>
/// <remarks>
/// The provider is requested by name when a network is opened, so an application moves to a GPU by referencing
/// another ONNX Runtime package (e.g. <c>Microsoft.ML.OnnxRuntime.Gpu</c> in place of <c>Microsoft.ML.OnnxRuntime</c>)
/// and setting <see cref="ExecutionProvider"/>; FaceNetSharp itself is not rebuilt. A provider that the loaded ONNX
/// Runtime lacks is a <see cref="NotSupportedException"/> naming the providers it has, when the network is opened.
/// </remarks>
public sealed record InferenceOptions
{
    /// <summary>The environment variable whose value is the default <see cref="ExecutionProvider"/> (e.g. <c>cuda</c>).</summary>
    public const string ExecutionProviderVariable = "FACENETSHARP_EXECUTION_PROVIDER";

    /// <summary>The CPU provider's name, the default when <see cref="ExecutionProviderVariable"/> is not set.</summary>
    public const string Cpu = "cpu";

    /// <summary>NVIDIA CUDA's provider name.</summary>
    public const string Cuda = "cuda";

    /// <summary>
    /// The execution provider by name: <c>cpu</c>, <c>cuda</c>, or another provider ONNX Runtime appends by name
    /// (e.g. <c>OpenVINO</c>, <c>QNN</c>, <c>XNNPACK</c>, <c>CoreML</c>; see <see cref="ProviderOptions"/>). Operators the
    /// provider lacks fall back to the CPU. Default: the value of <c>FACENETSHARP_EXECUTION_PROVIDER</c>, else <c>cpu</c>.
    /// </summary>
    public string ExecutionProvider { get; init; } = DefaultExecutionProvider();

    /// <summary>The GPU that <c>cuda</c> runs on (CUDA's device number). 0 by default.</summary>
    public int DeviceId { get; init; }

    /// <summary>Options passed to a provider other than <c>cpu</c> and <c>cuda</c> (its own keys and values).</summary>
    public IReadOnlyDictionary<string, string>? ProviderOptions { get; init; }

    /// <summary>
    /// Threads ONNX Runtime may use inside one run (intra-op); 0 lets ONNX Runtime choose. Null: the component's own
    /// default (MTCNN: 1, its networks are small; an embedder: every core). A server running one request per core
    /// sets 1, so that concurrent requests do not oversubscribe the cores.
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>
    /// Threads ONNX Runtime may use to run independent nodes of a graph at once (inter-op). With the default 1, nodes
    /// run one after another and all parallelism is inside them (the settings the figures of ../shared/docs/STACK.md
    /// were measured with); more enables ONNX Runtime's parallel execution mode.
    /// </summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>
    /// Whether sessions keep ONNX Runtime's CPU memory arena (and memory patterns). True by default (fastest for
    /// repeated calls on one image size); the arena keeps the most a session ever needed for the rest of its life, so
    /// a long-lived process that sees the odd large image (a server) turns it off and gets that memory back after each
    /// request. <c>FACENETSHARP_ORT_ARENA=on|off</c> overrides it, to measure what the arena does (scripts/server-memory.sh).
    /// </summary>
    public bool CpuMemoryArena { get; init; } = true;

    /// <summary>The default provider: <c>FACENETSHARP_EXECUTION_PROVIDER</c>, else <c>cpu</c>.</summary>
    private static string DefaultExecutionProvider() =>
        Environment.GetEnvironmentVariable(ExecutionProviderVariable) is { Length: > 0 } name ? name.Trim() : Cpu;
}
