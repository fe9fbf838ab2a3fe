using System.CommandLine;
using System.Net;
using FaceNetSharp.Cluster;
using FaceNetSharp.Recognition;
using FaceNetSharp.Server;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet serve [--urls URL...] [--api-key KEY] [--gallery PATH | --cluster CONN] [--model NAME]</c>: the HTTP API and
/// web page (src/FaceNetSharp.Server) until Ctrl+C. Loopback only unless another URL is given. With <c>--cluster</c> (or
/// $FACENET_CLUSTER) the gallery endpoints go to a cluster gallery and the server keeps no state: several may run
/// behind a load balancer.
/// </summary>
internal static class ServeCommand
{
    public const string ApiKeyVariable = "FACENETSHARP_API_KEY";

    public static Command Create(CliContext ctx)
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Addresses to listen on (default {ServerOptions.DefaultUrl}: this machine only)",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [ServerOptions.DefaultUrl],
        };
        var apiKey = new Option<string?>("--api-key") { Description = $"Require this key in the X-Api-Key header of every /v1 request (default: ${ApiKeyVariable})" };
        var gallery = new Option<string?>("--gallery") { Description = "The gallery's SQLite file (default: the one 'facenet gallery' uses, $XDG_DATA_HOME/facenetsharp/gallery.db, else ~/.local/share/facenetsharp/gallery.db)" };
        var model = Options.ModelOption.Create();
        var maxRequestMb = new Option<double>("--max-request-mb") { Description = "Largest request body in MiB (413 beyond)", DefaultValueFactory = _ => ServerOptions.DefaultMaxRequestBytes / (1024.0 * 1024) };
        var maxPixels = new Option<long>("--max-pixels") { Description = "Largest image, width x height (413 beyond)", DefaultValueFactory = _ => Imaging.ImageLoadOptions.DefaultMaxPixels };
        var maxConcurrency = new Option<int>("--max-concurrency") { Description = "Inferences run at once (default: the number of cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var queueMs = new Option<int>("--queue-timeout-ms") { Description = "How long a request waits for a free inference slot and room in the pixel budget before 503 + Retry-After", DefaultValueFactory = _ => 2000 };
        var maxPixelsInFlight = new Option<long>("--max-pixels-in-flight") { Description = "Budget of decoded pixels (width x height) of the images worked on at once: over it 503 + Retry-After, one request over all of it 413", DefaultValueFactory = _ => ServerOptions.DefaultMaxPixelsInFlight };
        var allowedHosts = new Option<string[]>("--allowed-hosts") { Description = "Host names to answer to besides 127.0.0.1, localhost, [::1] and the --urls hosts (NAME or NAME:PORT; * for any)", AllowMultipleArgumentsPerToken = true };
        var allowedOrigins = new Option<string[]>("--allowed-origins") { Description = "Origins (scheme://host[:port]) whose web pages may call the API (CORS); other sites' POST/DELETE get 403", AllowMultipleArgumentsPerToken = true };
        var cluster = SiloCommand.ClusterOption();
        var fpir = new Option<double>("--fpir") { Description = "False-positive identification rate /v1/identify chooses its threshold for, at the gallery's size (a request's 'fpir' overrides)", DefaultValueFactory = _ => Recognition.IdentificationThreshold.DefaultFpir };

        var cmd = new Command("serve", "Serve the JSON API (/v1/detect, /v1/embed, /v1/verify, /v1/identify, /v1/gallery), /health, /openapi/v1.json and a web page")
        {
            urls, apiKey, gallery, cluster, model, maxRequestMb, maxPixels, maxConcurrency, queueMs, maxPixelsInFlight, allowedHosts, allowedOrigins, fpir,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            string modelName = parse.GetValue(model)!;
            double mb = parse.GetValue(maxRequestMb);
            if (!(mb > 0)) throw new ArgumentException("--max-request-mb must be more than 0");
            if (parse.GetValue(maxConcurrency) < 1) throw new ArgumentException("--max-concurrency must be at least 1");
            if (parse.GetValue(queueMs) < 0) throw new ArgumentException("--queue-timeout-ms must be 0 or more");
            if (parse.GetValue(maxPixels) < 1) throw new ArgumentException("--max-pixels must be at least 1");
            if (parse.GetValue(maxPixelsInFlight) < 1) throw new ArgumentException("--max-pixels-in-flight must be at least 1");
            if (parse.GetValue(fpir) is not (> 0 and < 1)) throw new ArgumentException("--fpir must be between 0 and 1 (exclusive)");
            var key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
            var clusterConnection = SiloCommand.ClusterConnection(parse, cluster);
            if (clusterConnection is not null && parse.GetValue(gallery) is not null) throw new ArgumentException("give --gallery FILE or --cluster CONN, not both");
            var options = new ServerOptions
            {
                Urls = parse.GetValue(urls)!,
                ApiKey = string.IsNullOrEmpty(key) ? null : key,
                // One default for the CLI and the server: people enrolled with 'facenet gallery add' are served.
                GalleryPath = parse.GetValue(gallery) ?? GalleryCommand.DefaultGalleryPath(),
                MaxRequestBytes = (long)(mb * 1024 * 1024),
                MaxPixels = parse.GetValue(maxPixels),
                MaxConcurrency = parse.GetValue(maxConcurrency),
                QueueTimeout = TimeSpan.FromMilliseconds(parse.GetValue(queueMs)),
                MaxPixelsInFlight = parse.GetValue(maxPixelsInFlight),
                AllowedHosts = parse.GetValue(allowedHosts) ?? [],
                AllowedOrigins = parse.GetValue(allowedOrigins) ?? [],
                IdentifyFpir = parse.GetValue(fpir),
            };

            // A cluster gallery: PostgreSQL is opened (and the model checked) now; the silos are reached on the first
            // request that needs them, so the server starts, and answers 503, while they are down.
            IFaceGallery? clusterGallery = null;
            Func<Embedding.EmbedderInfo, IFaceGallery>? openGallery = clusterConnection is null ? null
                : info => clusterGallery = ClusterGallery.Open(clusterConnection, info.Name, info.Dimensions, info.Metric);
            await using var server = FaceServer.Open(options, modelName, parse.GetValue(CliApp.ModelsDir), DetectCommand.ModelsLog(ctx),
                CliApp.EmbeddingPrecisionOf(parse), openGallery);
            await server.StartAsync(cancel);
            ctx.Console.MarkupLineInterpolated($"Gallery: [bold]{clusterGallery?.Location ?? options.GalleryPath}[/]; model {modelName}; API key {(options.ApiKey is null ? "off" : "on")}");
            foreach (var url in server.Urls)
            {
                ctx.Console.MarkupLineInterpolated($"Listening on [bold]{url}[/] (page /, API /v1, OpenAPI /openapi/v1.json)");
                if (options.ApiKey is null && !IsLoopback(url))
                    ctx.Console.MarkupLineInterpolated($"[yellow]warning:[/] {url} is reachable from other machines and no API key is set (--api-key or ${ApiKeyVariable})");
            }
            await server.WaitForShutdownAsync(cancel);
            return 0;
        });
        return cmd;
    }

    private static bool IsLoopback(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) &&
        (uri.IsLoopback || IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
