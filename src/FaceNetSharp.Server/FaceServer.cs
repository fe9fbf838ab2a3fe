using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using FaceNetSharp.AspNetCore;
using FaceNetSharp.Recognition;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace FaceNetSharp.Server;

/// <summary>
/// The HTTP front end of <c>facenet serve</c>: the JSON endpoints under <c>/v1</c> (FaceNetSharp.AspNetCore's
/// <see cref="FaceNetServiceCollectionExtensions.AddFaceNet"/> and <see cref="FaceNetEndpointRouteBuilderExtensions.MapFaceNetApi"/>),
/// <c>/health</c>, the OpenAPI document at <c>/openapi/v1.json</c> and the web page at <c>/</c>, on Kestrel, behind
/// the API key and the Host and Origin checks (<see cref="RequestGuards"/>).
/// <code>
/// await using var server = FaceServer.Open(new ServerOptions { GalleryPath = "people.db" });
/// await server.StartAsync();
/// Console.WriteLine(server.Urls[0]);
/// await server.WaitForShutdownAsync();
/// </code>
/// </summary>
public sealed class FaceServer : IAsyncDisposable
{
    /// <summary>The header that carries the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    private readonly WebApplication _app;
    private readonly IDisposable[] _owned;

    private FaceServer(WebApplication app, IDisposable[] owned)
    {
        _app = app;
        _owned = owned;
    }

    internal FaceService Service => _app.Services.GetRequiredService<FaceService>();

    /// <summary>What gives memory back when the server goes idle; null when FACENETSHARP_SERVER_TRIM=off, or before the start.</summary>
    internal MemoryTrimmer? Trimmer => _app.Services.GetRequiredService<FaceNetStartup>().Trimmer;

    /// <summary>
    /// Opens the models (installing missing default models), the gallery, and builds the server; both are disposed
    /// with it. Call <see cref="StartAsync"/> to listen. The gallery is <see cref="ServerOptions.GalleryPath"/>'s
    /// SQLite file unless <paramref name="openGallery"/> opens another (e.g. a cluster gallery) for the model.
    /// </summary>
    public static FaceServer Open(ServerOptions options, string model = "mobilefacenet", string? modelsDirectory = null,
        IProgress<string>? log = null, Embedding.EmbeddingPrecision precision = Embedding.EmbeddingPrecision.Float32,
        Func<Embedding.EmbedderInfo, IFaceGallery>? openGallery = null)
    {
        var recognizer = OpenRecognizer(model, modelsDirectory, log, precision);
        try
        {
            var info = recognizer.Model;
            IFaceGallery gallery = openGallery is null
                ? FaceGallery.Open(options.GalleryPath, info.Name, info.Dimensions, info.Metric)
                : openGallery(info) ?? throw new InvalidOperationException("openGallery returned null");
            try
            {
                return Create(options, recognizer, gallery, [gallery, recognizer]);
            }
            catch
            {
                gallery.Dispose();
                throw;
            }
        }
        catch
        {
            recognizer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the recognizer the way the server wants it: <see cref="FaceNetOptions.ServerInference"/> for both
    /// networks (one thread inside each run, since the server's parallelism comes from concurrent requests; no CPU
    /// memory arena, so that the memory of a large request goes back), after limiting glibc's malloc arenas
    /// process-wide (<see cref="MemoryTrimmer.ConfigureAllocator"/>).
    /// </summary>
    public static FaceRecognizer OpenRecognizer(string model = "mobilefacenet", string? modelsDirectory = null, IProgress<string>? log = null,
        Embedding.EmbeddingPrecision precision = Embedding.EmbeddingPrecision.Float32)
    {
        MemoryTrimmer.ConfigureAllocator(); // before the sessions' threads allocate
        var defaults = new FaceNetOptions();
        return FaceRecognizer.Open(model, modelsDirectory, defaults.Detection, defaults.Embedding with { Precision = precision }, log);
    }

    /// <summary>
    /// Builds a server on a recognizer and a gallery the caller owns (several servers may share them; both are
    /// thread-safe). The gallery must be bound to the recognizer's model.
    /// </summary>
    public static FaceServer Create(ServerOptions options, FaceRecognizer recognizer, IFaceGallery gallery) =>
        Create(options, recognizer, gallery, []);

    private static FaceServer Create(ServerOptions options, FaceRecognizer recognizer, IFaceGallery gallery, IDisposable[] owned)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxRequestBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxPixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxPixelsInFlight);
        if (options.Urls.Count == 0) throw new ArgumentException("at least one URL to listen on is needed", nameof(options));
        if (gallery.ModelId != recognizer.Model.Name || gallery.Dimensions != recognizer.Model.Dimensions)
            throw new EmbeddingModelMismatchException(gallery.Location, gallery.ModelId, gallery.Dimensions,
                recognizer.Model.Name, recognizer.Model.Dimensions);
        // Out of range limits are refused here, naming the setting, rather than when the server starts.
        new FaceNetOptions
        {
            MaxPixels = options.MaxPixels, MaxPixelsInFlight = options.MaxPixelsInFlight, MaxConcurrency = options.MaxConcurrency,
            QueueTimeout = options.QueueTimeout, IdentifyFpir = options.IdentifyFpir,
        }.Validate();

        var guards = new RequestGuards(options);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(FaceServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        // The form reader's own limit must not trip before Kestrel's (which answers 413 with a clear message).
        builder.Services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = Math.Max(f.MultipartBodyLengthLimit, options.MaxRequestBytes + 1));
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        // The recognizer and gallery are the caller's (registered as instances, the container does not dispose them).
        builder.Services.AddSingleton(recognizer);
        builder.Services.AddSingleton(gallery);
        if (gallery is FaceGallery file) builder.Services.AddSingleton(file);
        builder.Services.AddFaceNet(o =>
        {
            o.GalleryPath = (gallery as FaceGallery)?.FilePath;
            o.MaxPixels = options.MaxPixels;
            o.MaxPixelsInFlight = options.MaxPixelsInFlight;
            o.MaxConcurrency = options.MaxConcurrency;
            o.QueueTimeout = options.QueueTimeout;
            o.IdentifyFpir = options.IdentifyFpir;
        });
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = DescribeRoutingProblem);
        // Pages of the allowed origins read the answers (RequestGuards lets their POST/DELETE through); the API key
        // travels in a header, so they may send it; no cookies are involved.
        if (guards.AllowedOrigins.Count > 0)
            builder.Services.AddCors(c => c.AddDefaultPolicy(p => p.WithOrigins([.. guards.AllowedOrigins])
                .WithMethods(HttpMethods.Get, HttpMethods.Post, HttpMethods.Delete)
                .WithHeaders(ApiKeyHeader, "Content-Type")
                .WithExposedHeaders("Location", "Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.WriteIndented = false);
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "FaceNetSharp";
            doc.Info.Description = "Face detection (MTCNN), embeddings, verification and a face gallery. " +
                $"When the server has an API key, every /v1 request needs the header {ApiKeyHeader}.";
            return Task.CompletedTask;
        }));

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(guards.InvokeAsync);
        if (guards.AllowedOrigins.Count > 0) app.UseCors();
        if (options.ApiKey is { } key) app.Use(RequireApiKey(key));

        var page = new EmbeddedFileProvider(typeof(FaceServer).Assembly, typeof(FaceServer).Namespace + ".wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = page });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = page });

        app.MapOpenApi();
        app.MapGet("/health", (FaceRecognizer recognizer, InferenceGate gate) => new HealthResponse("ok", recognizer.Model.Name,
                recognizer.Model.Dimensions, EmbeddingMetrics.Name(recognizer.Model.Metric), recognizer.Model.Threshold,
                gate.MaxConcurrency, options.MaxRequestBytes, options.MaxPixels, gate.PixelBudget, options.ApiKey is not null))
            .WithName("Health").WithSummary("Liveness and the server's model and limits (no API key needed)");
        app.MapFaceNetApi("/v1");
        return new FaceServer(app, owned);
    }

    /// <summary>
    /// Messages for the answers routing gives before a handler runs (its problem details have a title only): an
    /// upload that is not multipart (415: the endpoints declare multipart/form-data), an unknown path or method.
    /// </summary>
    private static void DescribeRoutingProblem(ProblemDetailsContext c)
    {
        if (c.ProblemDetails.Detail is not null) return;
        var request = c.HttpContext.Request;
        c.ProblemDetails.Detail = c.ProblemDetails.Status switch
        {
            StatusCodes.Status415UnsupportedMediaType =>
                $"Send the image(s) as multipart/form-data file fields; the request's Content-Type is '{request.ContentType ?? "(none)"}'.",
            StatusCodes.Status404NotFound => $"Nothing is served at {request.Path}; the API is under /v1 (see /openapi/v1.json).",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method} (see /openapi/v1.json).",
            _ => null,
        };
    }

    /// <summary>401 for every /v1 request without the right key; the comparison takes the same time wherever it differs.</summary>
    private static Func<HttpContext, RequestDelegate, Task> RequireApiKey(string key)
    {
        var expected = Encoding.UTF8.GetBytes(key);
        return async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/v1"))
            {
                string? given = context.Request.Headers[ApiKeyHeader];
                if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected))
                {
                    context.Response.Headers.WWWAuthenticate = ApiKeyHeader;
                    await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "API key required",
                        detail: given is null
                            ? $"This server needs an API key: send it in the {ApiKeyHeader} header."
                            : $"The {ApiKeyHeader} header does not hold this server's API key.")
                        .ExecuteAsync(context);
                    return;
                }
            }
            await next(context);
        };
    }

    /// <summary>The addresses the server listens on (with the real port when 0 was asked), once started.</summary>
    public IReadOnlyList<string> Urls =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancel = default) => _app.StartAsync(cancel);

    /// <summary>Completes when the host stops (Ctrl+C, SIGTERM, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops listening; requests in flight finish first.</summary>
    public Task StopAsync(CancellationToken cancel = default) => _app.StopAsync(cancel);

    /// <summary>Stops the server and disposes it, then the recognizer and gallery it opened (not those it was given).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var d in _owned) d.Dispose();
    }
}
