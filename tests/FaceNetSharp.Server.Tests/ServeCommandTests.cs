using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace FaceNetSharp.Server.Tests;

/// <summary><c>facenet serve</c> as a real process: its flags and environment reach the server.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class ServeCommandTests
{
    [SkippableFact]
    public async Task Facenet_serve_listens_on_loopback_with_the_key_from_the_environment_and_the_given_gallery()
    {
        var photo = Photos.Hopkins1;
        var dir = Directory.CreateTempSubdirectory("facenet-serve-cli-");
        var galleryPath = Path.Combine(dir.FullName, "people.db");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "facenet.dll"), "serve", "--urls", "http://127.0.0.1:0",
                "--gallery", galleryPath, "--max-concurrency", "1" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["FACENETSHARP_API_KEY"] = "from-the-environment" },
        };
        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await WaitForUrlAsync(process, output, TimeSpan.FromMinutes(2));
            using var http = new HttpClient { BaseAddress = new Uri(url) };

            var health = await Json.OkAsync<HealthResponse>(await http.GetAsync("/health"));
            Assert.True(health.ApiKeyRequired);
            Assert.Equal(1, health.MaxConcurrency);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/gallery")).StatusCode);

            http.DefaultRequestHeaders.Add("X-Api-Key", "from-the-environment");
            await Json.OkAsync<EnrolResponse>(await http.PostAsync("/v1/gallery/Hopkins", Form.Of(("image", photo))), HttpStatusCode.Created);
            var gallery = await Json.GetAsync<GalleryResponse>(http, "/v1/gallery");
            Assert.Equal(["Hopkins"], gallery!.People.Select(p => p.Name));
            Assert.True(File.Exists(galleryPath));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> WaitForUrlAsync(Process process, StringBuilder output, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            string text;
            lock (output) text = output.ToString();
            if (ListeningUrl().Match(text) is { Success: true } m) return m.Groups[1].Value;
            Assert.False(process.HasExited, "facenet serve exited: " + text);
            await Task.Delay(100);
        }
        lock (output) Assert.Fail($"facenet serve printed no address within {timeout}: {output}");
        return "";
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningUrl();
}
