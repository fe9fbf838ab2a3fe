using System.Net;
using FaceNetSharp.Recognition;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// FaceNetSharp.AspNetCore in an application of one's own (not <c>facenet serve</c>): AddFaceNet's singletons and
/// MapFaceNetApi's endpoints under another prefix, on a real Kestrel on 127.0.0.1 with real photos.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AspNetCoreHostingTests(ServerFixture fixture)
{
    [SkippableFact]
    public async Task AddFaceNet_opens_the_models_and_the_gallery_as_singletons_and_MapFaceNetApi_serves_them_under_any_prefix()
    {
        var (h1, h2, obama) = (Photos.Hopkins1, Photos.Hopkins2, Photos.Obama);
        var dir = Directory.CreateTempSubdirectory("facenet-aspnetcore-");
        try
        {
            var gallery = Path.Combine(dir.FullName, "people.db");
            var builder = Builder();
            builder.Services.AddFaceNet(o =>
            {
                o.GalleryPath = gallery;
                o.MaxConcurrency = 2;
            });
            await using var app = builder.Build();
            app.MapFaceNetApi("/api/faces");
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(Address(app)), Timeout = TimeSpan.FromMinutes(2) };

            // One instance of each for the whole application, opened at the start.
            var recognizer = app.Services.GetRequiredService<FaceRecognizer>();
            Assert.Same(recognizer, app.Services.GetRequiredService<FaceRecognizer>());
            Assert.Same(app.Services.GetRequiredService<FaceGallery>(), app.Services.GetRequiredService<FaceGallery>());
            var gate = app.Services.GetRequiredService<InferenceGate>();
            Assert.Equal(2, gate.MaxConcurrency);
            Assert.Equal(gallery, app.Services.GetRequiredService<FaceGallery>().FilePath);

            var same = await Json.OkAsync<VerifyResponse>(await http.PostAsync("/api/faces/verify", Form.Of(("image1", h1), ("image2", h2))));
            Assert.True(same.Same, $"distance {same.Distance}");
            await Json.OkAsync<EnrolResponse>(await http.PostAsync("/api/faces/gallery/Hopkins", Form.Of(("image", h1))), HttpStatusCode.Created);
            var identified = await Json.OkAsync<IdentifyResponse>(await http.PostAsync("/api/faces/identify", Form.Of(("image", h2))));
            Assert.Equal("Hopkins", Assert.Single(identified.Faces).Person);
            var stranger = await Json.OkAsync<IdentifyResponse>(await http.PostAsync("/api/faces/identify", Form.Of(("image", obama))));
            Assert.NotEmpty(stranger.Faces);
            Assert.All(stranger.Faces, f => Assert.Null(f.Person));

            // Failures a caller can fix are problem details without any middleware of the application's.
            var notImage = new MultipartFormDataContent { { Form.Bytes("not an image"u8.ToArray()), "image", "x.jpg" } };
            var problem = await Json.ProblemAsync(await http.PostAsync("/api/faces/detect", notImage), HttpStatusCode.BadRequest);
            Assert.Contains("image (x.jpg)", problem.Detail);
            var missing = await Json.ProblemAsync(await http.PostAsync("/api/faces/verify", Form.Of(("image1", h1))), HttpStatusCode.BadRequest);
            Assert.Contains("'image2'", missing.Detail);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/gallery")).StatusCode); // only the prefix asked for
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    [SkippableFact]
    public async Task An_application_registers_its_own_recognizer_and_AddFaceNet_uses_it()
    {
        var dir = Directory.CreateTempSubdirectory("facenet-aspnetcore-own-");
        try
        {
            var builder = Builder();
            builder.Services.AddSingleton(fixture.Recognizer);   // composed elsewhere (here: the fixture's)
            builder.Services.AddFaceNet(o => o.GalleryPath = Path.Combine(dir.FullName, "people.db"));
            await using (var app = builder.Build())
            {
                app.MapFaceNetApi();
                await app.StartAsync();
                Assert.Same(fixture.Recognizer, app.Services.GetRequiredService<FaceRecognizer>());
                using var http = new HttpClient { BaseAddress = new Uri(Address(app)), Timeout = TimeSpan.FromMinutes(2) };
                var detected = await Json.OkAsync<DetectResponse>(await http.PostAsync("/v1/detect", Form.Of(("image", Photos.TwoPeople))));
                Assert.Equal(2, detected.Faces.Length);
                await app.StopAsync();
            }
            // The application's instance is not disposed with the application: it still works.
            Assert.NotNull(fixture.Recognizer.EmbedLargestFace(Imaging.ImageLoader.Load(Photos.Hopkins1)));
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Without_a_gallery_path_the_start_fails_saying_which_option_to_set()
    {
        var builder = Builder();
        builder.Services.AddSingleton(fixture.Recognizer);
        builder.Services.AddFaceNet();
        await using var app = builder.Build();
        app.MapFaceNetApi();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.Contains("FaceNetOptions.GalleryPath", e.Message);
    }

    [Fact]
    public async Task MapFaceNetApi_without_AddFaceNet_says_to_call_it()
    {
        await using var app = Builder().Build();
        var e = Assert.Throws<InvalidOperationException>(() => app.MapFaceNetApi("/v1"));
        Assert.Contains("AddFaceNet", e.Message);
    }

    [Fact]
    public async Task Limits_out_of_range_fail_the_start_naming_the_option()
    {
        var builder = Builder();
        builder.Services.AddSingleton(fixture.Recognizer);
        builder.Services.AddFaceNet(o => { o.GalleryPath = "unused.db"; o.MaxPixelsInFlight = 0; });
        await using var app = builder.Build();
        app.MapFaceNetApi();
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => app.StartAsync());
        Assert.Contains("MaxPixelsInFlight", e.Message);
    }

    private static WebApplicationBuilder Builder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        return builder;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
}
