using FaceNetSharp.Imaging;

namespace FaceNetSharp.Server;

/// <summary>How <see cref="FaceServer"/> listens, which models and gallery it uses, and its limits.</summary>
public sealed record ServerOptions
{
    /// <summary>The default address: loopback only, so a fresh start never exposes the API to the network.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>Default largest request body: 20 MiB (two phone photos with room to spare).</summary>
    public const long DefaultMaxRequestBytes = 20L * 1024 * 1024;

    /// <summary>Addresses to listen on (Kestrel URLs). Port 0 picks a free port; read it from <see cref="FaceServer.Urls"/>.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>
    /// When not null, every request under <c>/v1</c> must carry this value in the <c>X-Api-Key</c> header (401 otherwise).
    /// <c>/health</c>, the web page and the OpenAPI document stay open.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>Largest request body in bytes; a larger one is answered 413 before it is read to its end.</summary>
    public long MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Largest decoded image (width x height, from the header); a larger one is answered 413 before decoding.</summary>
    public long MaxPixels { get; init; } = ImageLoadOptions.DefaultMaxPixels;

    /// <summary>
    /// Default budget of pixels in flight: 48 Mpx, one image at the default <see cref="MaxPixels"/> (40 Mpx) with a
    /// few phone photos beside it, or two dozen 2-Mpx photos. Measured by scripts/server-memory.sh: see the server
    /// README for the memory this lets the process reach.
    /// </summary>
    public const long DefaultMaxPixelsInFlight = AspNetCore.FaceNetOptions.DefaultMaxPixelsInFlight;

    /// <summary>
    /// The most pixels (decoded width x height, read from the image headers before decoding) the requests admitted
    /// at once may hold: a request that does not fit waits for others to finish, up to <see cref="QueueTimeout"/>,
    /// then is answered 503 with <c>Retry-After</c>; one that could never fit is answered 413. This, not the slot
    /// count, bounds the server's memory when large images arrive together.
    /// </summary>
    public long MaxPixelsInFlight { get; init; } = DefaultMaxPixelsInFlight;

    /// <summary>
    /// Host names the server answers to besides the ones it listens as (the loopback names 127.0.0.1, localhost and
    /// [::1], and the URLs' hosts, each with the port the request came in on): <c>name</c> (any port) or
    /// <c>name:port</c>, e.g. a reverse proxy's name; <c>*</c> answers to any Host (no protection against DNS
    /// rebinding). Any other Host is answered 400.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>) whose web pages may call the API: their POST/DELETE requests are
    /// accepted and answered with CORS headers. A state-changing request from any other site's page is answered 403;
    /// the server's own page is always allowed.
    /// </summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>How many decode + inference jobs run at once (default: the number of cores).</summary>
    public int MaxConcurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How long a request waits for a free inference slot and room in the pixel budget before it is answered 503 with <c>Retry-After</c>.
    /// Short on purpose: a client that retries later is better served than one whose request times out in a queue.
    /// </summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The gallery's SQLite file (created when missing); not opened when <see cref="FaceServer.Open"/> is given a
    /// gallery of its own (<c>facenet serve --cluster</c>).
    /// </summary>
    public required string GalleryPath { get; init; }

    /// <summary>The least severe log messages written (to the console).</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// The false-positive identification rate <c>/v1/identify</c> chooses its threshold for, at the gallery's size,
    /// unless a request gives its own <c>fpir</c> (<see cref="Recognition.IdentificationThreshold"/>).
    /// </summary>
    public double IdentifyFpir { get; init; } = Recognition.IdentificationThreshold.DefaultFpir;
}
