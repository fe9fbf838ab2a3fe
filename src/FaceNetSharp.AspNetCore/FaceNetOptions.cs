using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.AspNetCore;

/// <summary>
/// What <see cref="FaceNetServiceCollectionExtensions.AddFaceNet"/> registers: which models and gallery, how they
/// run, and the API's limits.
/// <code>
/// builder.Services.AddFaceNet(o => { o.GalleryPath = "people.db"; o.MaxConcurrency = 4; });
/// </code>
/// </summary>
public sealed class FaceNetOptions
{
    /// <summary>Default budget of pixels in flight: 48 Mpx (see <see cref="MaxPixelsInFlight"/>).</summary>
    /// <remarks>
    /// One image at the default <see cref="MaxPixels"/> (40 Mpx) with a few phone photos beside it, or two dozen
    /// 2-Mpx photos. Measured by scripts/server-memory.sh: see the server README for the memory this lets the process reach.
    /// </remarks>
    public const long DefaultMaxPixelsInFlight = 48_000_000;

    /// <summary>The largest number of matches <c>/v1/identify</c> returns per face.</summary>
    public const int MaxTop = 100;

    /// <summary>
    /// The embedding model when the recognizer is opened from the model store: <c>mobilefacenet</c> (default),
    /// <c>dlib</c>, or an .onnx path with its card beside it. Not used when the application registers its own
    /// <see cref="FaceRecognizer"/>.
    /// </summary>
    public string Model { get; set; } = "mobilefacenet";

    /// <summary>The model folder (default: the per-user cache); missing default models are installed there at start.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>
    /// The gallery's SQLite file (created when missing). Required unless <see cref="OpenGallery"/> is set or the
    /// application registers its own <see cref="FaceGallery"/> or <see cref="IFaceGallery"/>.
    /// </summary>
    public string? GalleryPath { get; set; }

    /// <summary>
    /// Opens the gallery the API uses, given the recognizer's model, instead of <see cref="GalleryPath"/>'s SQLite file:
    /// any <see cref="IFaceGallery"/>, e.g. a cluster gallery (FaceNetSharp.Cluster), which makes the API a stateless
    /// front end that several servers can share. The gallery is disposed when the application stops. An
    /// <see cref="IFaceGallery"/> the application registers itself takes precedence over this.
    /// <code>
    /// o.OpenGallery = model => ClusterGallery.Open(connection, model.Name, model.Dimensions, model.Metric);
    /// </code>
    /// </summary>
    public Func<EmbedderInfo, IFaceGallery>? OpenGallery { get; set; }

    /// <summary>
    /// MTCNN's settings when the recognizer is opened from the model store. Its <see cref="MtcnnOptions.Inference"/>
    /// is <see cref="ServerInference"/> by default.
    /// </summary>
    public MtcnnOptions Detection { get; set; } = new() { Inference = ServerInference() };

    /// <summary>
    /// The embedder's settings when the recognizer is opened from the model store. Its
    /// <see cref="EmbedderOptions.Inference"/> is <see cref="ServerInference"/> by default.
    /// </summary>
    public EmbedderOptions Embedding { get; set; } = new() { Inference = ServerInference() };

    /// <summary>Largest decoded image (width x height, from the header); a larger one is answered 413 before decoding.</summary>
    public long MaxPixels { get; set; } = ImageLoadOptions.DefaultMaxPixels;

    /// <summary>
    /// The most pixels (decoded width x height, read from the image headers before decoding) the requests admitted
    /// at once may hold: a request that does not fit waits for others to finish, up to <see cref="QueueTimeout"/>,
    /// then is answered 503 with <c>Retry-After</c>; one that could never fit is answered 413. This, not the slot
    /// count, bounds the memory when large images arrive together.
    /// </summary>
    public long MaxPixelsInFlight { get; set; } = DefaultMaxPixelsInFlight;

    /// <summary>How many decode + inference jobs run at once (default: the number of cores).</summary>
    public int MaxConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// How long a request waits for a free inference slot and room in the pixel budget before it is answered 503 with
    /// <c>Retry-After</c>. Short on purpose: a client that retries later is better served than one whose request
    /// times out in a queue.
    /// </summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The false-positive identification rate <c>/v1/identify</c> chooses its threshold for, at the gallery's size,
    /// unless a request gives its own <c>fpir</c> (<see cref="IdentificationThreshold"/>).
    /// </summary>
    public double IdentifyFpir { get; set; } = IdentificationThreshold.DefaultFpir;

    /// <summary>
    /// Whether memory goes back to the system once the API is idle after work (a compacting collection and glibc's
    /// <c>malloc_trim</c>, half a second after the last job), and glibc keeps at most two malloc arenas. True by
    /// default; <c>FACENETSHARP_SERVER_TRIM=off</c> turns it off too (to measure what it does).
    /// </summary>
    public bool TrimMemory { get; set; } = true;

    /// <summary>Where model installation reports progress at start (null: nowhere).</summary>
    public IProgress<string>? ModelLog { get; set; }

    /// <summary>
    /// ONNX Runtime's settings for a server: one thread inside each run (the parallelism comes from concurrent
    /// requests, one per core, see <see cref="MaxConcurrency"/>; an embedder that also used every core would
    /// oversubscribe them) and no CPU memory arena (an arena keeps the most memory a session ever needed, gigabytes
    /// after one 40-Mpx image, for the life of the process; without it the memory of a request goes back when it ends:
    /// scripts/server-memory.sh measures both). The execution provider stays the default
    /// (<c>FACENETSHARP_EXECUTION_PROVIDER</c>, else the CPU).
    /// </summary>
    public static InferenceOptions ServerInference() => new() { IntraOpThreads = 1, CpuMemoryArena = false };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixels, nameof(MaxPixels));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxPixelsInFlight, nameof(MaxPixelsInFlight));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrency, nameof(MaxConcurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueTimeout, TimeSpan.Zero, nameof(QueueTimeout));
        if (IdentifyFpir is not (> 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(IdentifyFpir), IdentifyFpir, "must be between 0 and 1 (exclusive)");
    }
}
