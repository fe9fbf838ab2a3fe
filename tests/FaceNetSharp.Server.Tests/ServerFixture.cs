using System.Net.Http.Headers;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// One recognizer (the installed default models) shared by every test; each test starts its own real Kestrel server
/// on 127.0.0.1 with a free port and its own gallery file.
/// </summary>
public sealed class ServerFixture : IDisposable
{
    private readonly Lazy<FaceRecognizer> _recognizer = new(() => FaceServer.OpenRecognizer());

    public FaceRecognizer Recognizer => _recognizer.Value;

    /// <summary>Starts a server; <paramref name="configure"/> changes the default test options.</summary>
    internal async Task<RunningServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null)
    {
        var dir = Directory.CreateTempSubdirectory("facenet-serve-test-");
        var options = new ServerOptions
        {
            Urls = ["http://127.0.0.1:0"],
            GalleryPath = Path.Combine(dir.FullName, "gallery.db"),
            MinimumLogLevel = LogLevel.Warning,
        };
        options = configure?.Invoke(options) ?? options;
        var info = Recognizer.Model;
        var gallery = FaceGallery.Open(options.GalleryPath, info.Name, info.Dimensions,
            info.Metric == EmbeddingMetric.Cosine ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean);
        var server = FaceServer.Create(options, Recognizer, gallery);
        await server.StartAsync();
        var url = server.Urls.Single();
        Assert.StartsWith("http://127.0.0.1:", url);
        return new RunningServer(server, gallery, dir, new Uri(url));
    }

    public void Dispose()
    {
        if (_recognizer.IsValueCreated) _recognizer.Value.Dispose();
    }
}

/// <summary>A started server, its gallery and temp folder, and a client for it; disposing stops and deletes them.</summary>
internal sealed class RunningServer(FaceServer server, FaceGallery gallery, DirectoryInfo dir, Uri address) : IAsyncDisposable
{
    public FaceServer Server { get; } = server;
    public FaceGallery Gallery { get; } = gallery;
    public Uri Address { get; } = address;
    public HttpClient Client { get; } = new() { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Gallery.Dispose();
        try { dir.Delete(recursive: true); } catch (IOException) { }
    }
}

/// <summary>Builds multipart bodies from real files.</summary>
internal static class Form
{
    public static MultipartFormDataContent Of(params (string Field, string Path)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, path) in files) form.Add(File(path), field, System.IO.Path.GetFileName(path));
        return form;
    }

    public static ByteArrayContent File(string path) => Bytes(System.IO.File.ReadAllBytes(path), MimeOf(path));

    public static ByteArrayContent Bytes(byte[] data, string contentType = "application/octet-stream")
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static string MimeOf(string path) => System.IO.Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
