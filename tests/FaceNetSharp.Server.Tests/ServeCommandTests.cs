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

    [SkippableFact]
    public async Task Facenet_serve_and_facenet_gallery_share_one_default_gallery()
    {
        var photo = Photos.Hopkins1;
        var dataHome = Directory.CreateTempSubdirectory("facenet-serve-xdg-");
        try
        {
            // Enrol from the CLI with the default gallery ($XDG_DATA_HOME/facenetsharp/gallery.db).
            var add = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Facenet, "gallery", "add", "Anthony Hopkins", photo },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["XDG_DATA_HOME"] = dataHome.FullName },
            };
            using (var p = Process.Start(add)!)
            {
                string text = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
                await p.WaitForExitAsync();
                Assert.True(p.ExitCode == 0, text);
            }
            var galleryPath = Path.Combine(dataHome.FullName, "facenetsharp", "gallery.db");
            Assert.True(File.Exists(galleryPath));

            // The server with no --gallery serves that person.
            var output = new StringBuilder();
            using (var process = StartServe(output, dataHome.FullName, "--urls", "http://127.0.0.1:0", "--max-concurrency", "1"))
            {
                try
                {
                    var url = await WaitForUrlAsync(process, output, TimeSpan.FromMinutes(2));
                    using var http = new HttpClient { BaseAddress = new Uri(url) };
                    var gallery = await Json.GetAsync<GalleryResponse>(http, "/v1/gallery");
                    Assert.Equal(["Anthony Hopkins"], gallery!.People.Select(p => p.Name));
                    // serve names its gallery once it listens (after Kestrel's "Now listening").
                    for (int i = 0; i < 100 && !Unwrapped(Text(output)).Contains("Gallery:"); i++) await Task.Delay(100);
                    Assert.Contains(galleryPath, Unwrapped(Text(output)));
                }
                finally
                {
                    if (!process.HasExited) process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            // The same default with another model: refused, naming the file, its model and the flag that opens it.
            var refused = new StringBuilder();
            using (var process = StartServe(refused, dataHome.FullName, "--urls", "http://127.0.0.1:0", "--model", "dlib"))
            {
                var exited = process.WaitForExitAsync();
                if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(2))) != exited) process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                string text;
                lock (refused) text = Unwrapped(refused.ToString());
                Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {text}");
                Assert.Contains(galleryPath, text);
                Assert.Contains("mobilefacenet", text);
                Assert.Contains("--modelmobilefacenet", text);
                Assert.DoesNotContain("Exception", text);
            }
        }
        finally
        {
            try { dataHome.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The console's text without white space: the console wraps long lines wherever its width ends.</summary>
    private static string Unwrapped(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    private static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    private static string Facenet => Path.Combine(AppContext.BaseDirectory, "facenet.dll");

    private static Process StartServe(StringBuilder output, string dataHome, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["XDG_DATA_HOME"] = dataHome, ["FACENETSHARP_API_KEY"] = "" },
        };
        start.ArgumentList.Add(Facenet);
        start.ArgumentList.Add("serve");
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
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
