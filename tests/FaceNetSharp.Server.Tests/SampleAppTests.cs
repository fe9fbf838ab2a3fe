using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// samples/FaceNetSharp.Samples.WebApi (AddFaceNet + MapFaceNetApi in a plain ASP.NET Core app) as a real process
/// on 127.0.0.1, answering real photos.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class SampleAppTests
{
    private const string Name = "FaceNetSharp.Samples.WebApi";

    [SkippableFact]
    public async Task The_sample_app_serves_verify_and_the_gallery_on_loopback()
    {
        var (h1, h2, biden) = (Photos.Hopkins1, Photos.Hopkins2, Photos.Biden);
        var output = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar); // .../bin/CONFIG/net10.0: the sample's is alike
        var sample = Path.Combine(TestPaths.RepoRoot, "samples", Name, "bin", Path.GetFileName(Path.GetDirectoryName(output))!,
            Path.GetFileName(output), Name + ".dll");
        Assert.True(File.Exists(sample), $"{sample} is not built (the test project builds it)");

        var dir = Directory.CreateTempSubdirectory("facenet-sample-");
        var gallery = Path.Combine(dir.FullName, "people.db");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { sample, "--urls", "http://127.0.0.1:0", $"--FaceNet:GalleryPath={gallery}" },
            WorkingDirectory = Path.GetDirectoryName(sample)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var log = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await WaitForUrlAsync(process, log, TimeSpan.FromMinutes(2));
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };

            var same = await Json.OkAsync<VerifyResponse>(await http.PostAsync("/v1/verify", Form.Of(("image1", h1), ("image2", h2))));
            Assert.True(same.Same, $"distance {same.Distance}");
            Assert.Equal("mobilefacenet", same.Model);
            var different = await Json.OkAsync<VerifyResponse>(await http.PostAsync("/v1/verify", Form.Of(("image1", h1), ("image2", biden))));
            Assert.False(different.Same, $"distance {different.Distance}");

            await Json.OkAsync<EnrolResponse>(await http.PostAsync("/v1/gallery/Hopkins", Form.Of(("image", h1))), System.Net.HttpStatusCode.Created);
            var people = await Json.GetAsync<GalleryResponse>(http, "/v1/gallery");
            Assert.Equal(["Hopkins"], people!.People.Select(p => p.Name));
            Assert.True(File.Exists(gallery), "the gallery is the file the configuration names");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void The_readmes_aspnet_example_is_the_samples_program()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## ASP.NET Core", StringComparison.Ordinal)..];
        var block = CodeBlock().Match(section);
        Assert.True(block.Success, "README.md's ASP.NET Core section has no csharp block");
        var program = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "samples", Name, "Program.cs"));
        Assert.Equal(Lines(program), Lines(block.Groups[1].Value));
        Assert.True(Lines(program).Length <= 10, "the sample is about ten lines");
    }

    private static string[] Lines(string code) =>
        code.Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0).ToArray();

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    private static async Task<string> WaitForUrlAsync(Process process, StringBuilder log, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            string text;
            lock (log) text = log.ToString();
            if (ListeningUrl().Match(text) is { Success: true } m) return m.Groups[1].Value;
            Assert.False(process.HasExited, "the sample exited: " + text);
            await Task.Delay(100);
        }
        lock (log) Assert.Fail($"the sample printed no address within {timeout}: {log}");
        return "";
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningUrl();
}
