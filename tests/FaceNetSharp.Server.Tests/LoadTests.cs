using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// Concurrent clients against one real server on loopback: nothing is lost, nothing fails, and the throughput and
/// latency are measured, printed, and written to artifacts/server-load/ (JSON + Markdown).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LoadTests(ServerFixture fixture, ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int RequestsPerClient = 50;
    private const int VerifiesPerClient = 20;

    [SkippableFact]
    public async Task Eight_clients_enrolling_and_identifying_lose_no_enrolment_and_see_no_failure()
    {
        // face-api.js's 150x150 photos: eight people, three photos each, all read before the clock starts.
        var photos = Photos.Characters.ToDictionary(c => c, c => Enumerable.Range(1, 3).Select(i => File.ReadAllBytes(Photos.Character(c, i))).ToArray());
        var hopkins1 = File.ReadAllBytes(Photos.Hopkins1);
        var hopkins2 = File.ReadAllBytes(Photos.Hopkins2);

        // The queue timeout is longer than 8 clients can ever make a request wait (7 inferences ahead of it), so any
        // 503 here would be a fault: the count is asserted to be 0. The 503 path itself is tested in BadInputTests.
        await using var s = await fixture.StartAsync(o => o with { QueueTimeout = TimeSpan.FromMinutes(1) });
        int maxConcurrency = s.Server.Service.Gate.MaxConcurrency;

        var statuses = new ConcurrentDictionary<string, int>();
        var enrolLatency = new ConcurrentBag<double>();
        var identifyLatency = new ConcurrentBag<double>();
        var failures = new ConcurrentBag<string>();
        var enrolled = new ConcurrentBag<string>();
        var seenNames = new ConcurrentBag<string>();

        // Phase 1: each client alternates enrol (a new name each time) and identify.
        var mixedClock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = s.Address, Timeout = TimeSpan.FromMinutes(2) };
            for (int i = 0; i < RequestsPerClient; i++)
            {
                string character = Photos.Characters[(client + i) % Photos.Characters.Length];
                byte[] photo = photos[character][i % 3];
                bool enrol = i % 2 == 0;
                string name = $"{character}-c{client}-r{i}";
                var form = new MultipartFormDataContent { { Form.Bytes(photo, "image/png"), "image", $"{character}.png" } };
                if (!enrol) form.Add(new StringContent("3"), "top");

                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync(enrol ? $"/v1/gallery/{name}" : "/v1/identify", form);
                string body = await response.Content.ReadAsStringAsync();
                double ms = clock.Elapsed.TotalMilliseconds;
                statuses.AddOrUpdate($"{(enrol ? "enrol" : "identify")} {(int)response.StatusCode}", 1, (_, n) => n + 1);

                var expected = enrol ? HttpStatusCode.Created : HttpStatusCode.OK;
                if (response.StatusCode != expected) { failures.Add($"{name}: {(int)response.StatusCode} {body}"); continue; }
                if (enrol)
                {
                    enrolLatency.Add(ms);
                    enrolled.Add(name);
                }
                else
                {
                    identifyLatency.Add(ms);
                    var r = JsonSerializer.Deserialize<IdentifyResponse>(body, Json.Web)!;
                    foreach (var m in r.Faces.SelectMany(f => f.Matches)) seenNames.Add(m.Name);
                }
            }
        }))).WaitAsync(TimeSpan.FromMinutes(8));
        var mixedElapsed = mixedClock.Elapsed;

        // Phase 2: verify only.
        var verifyLatency = new ConcurrentBag<double>();
        var verifyClock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = s.Address, Timeout = TimeSpan.FromMinutes(2) };
            for (int i = 0; i < VerifiesPerClient; i++)
            {
                var form = new MultipartFormDataContent
                {
                    { Form.Bytes(hopkins1, "image/jpeg"), "image1", "a.jpg" },
                    { Form.Bytes(hopkins2, "image/jpeg"), "image2", "b.jpg" },
                };
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync("/v1/verify", form);
                string body = await response.Content.ReadAsStringAsync();
                double ms = clock.Elapsed.TotalMilliseconds;
                statuses.AddOrUpdate($"verify {(int)response.StatusCode}", 1, (_, n) => n + 1);
                if (response.StatusCode != HttpStatusCode.OK) { failures.Add($"verify: {(int)response.StatusCode} {body}"); continue; }
                if (!JsonSerializer.Deserialize<VerifyResponse>(body, Json.Web)!.Same) failures.Add("verify: Hopkins 1 and 2 not the same: " + body);
                verifyLatency.Add(ms);
            }
        }))).WaitAsync(TimeSpan.FromMinutes(5));
        var verifyElapsed = verifyClock.Elapsed;

        var report = new LoadReport(Environment.ProcessorCount, maxConcurrency, Clients,
            Mixed: Phase("enrol + identify", Clients * RequestsPerClient, mixedElapsed),
            Verify: Phase("verify", Clients * VerifiesPerClient, verifyElapsed),
            Latency: [Stats("identify", identifyLatency), Stats("enrol", enrolLatency), Stats("verify", verifyLatency)],
            Statuses: new SortedDictionary<string, int>(statuses));
        Publish(report);

        Assert.Empty(failures);
        Assert.Equal(0, s.Server.Service.Gate.Rejected);
        Assert.DoesNotContain(statuses.Keys, k => k.EndsWith(" 503", StringComparison.Ordinal));

        // Every enrolment is in the gallery, once, with its one face; identify only ever named enrolled people.
        var gallery = await Json.GetAsync<GalleryResponse>(s.Client, "/v1/gallery");
        Assert.Equal(Clients * RequestsPerClient / 2, enrolled.Count);
        Assert.Equal(enrolled.Order(StringComparer.Ordinal), gallery!.People.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(gallery.People, p => Assert.Equal(1, p.Faces));
        Assert.Equal(enrolled.Count, s.Gallery.FaceCount);
        Assert.Subset(enrolled.ToHashSet(), seenNames.ToHashSet());
    }

    private void Publish(LoadReport report)
    {
        var md = new StringBuilder();
        md.AppendLine("# facenet serve under load (loopback)").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{report.Clients} clients, {report.Cores} cores, --max-concurrency {report.MaxConcurrency}, model {fixture.Recognizer.Model.Name}.").AppendLine();
        md.AppendLine("| phase | requests | seconds | requests/s |").AppendLine("|---|---:|---:|---:|");
        foreach (var p in new[] { report.Mixed, report.Verify })
            md.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {p.Requests} | {p.Seconds:F2} | {p.RequestsPerSecond:F1} |");
        md.AppendLine().AppendLine("| endpoint | n | p50 ms | p99 ms | max ms |").AppendLine("|---|---:|---:|---:|---:|");
        foreach (var l in report.Latency)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {l.Endpoint} | {l.Count} | {l.P50Ms:F1} | {l.P99Ms:F1} | {l.MaxMs:F1} |");
        md.AppendLine().AppendLine("Statuses: " + string.Join(", ", report.Statuses.Select(kv => $"{kv.Key} x{kv.Value}")));

        output.WriteLine(md.ToString());
        var dir = Path.Combine(TestPaths.RepoRoot, "artifacts", "server-load");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "load.md"), md.ToString());
        File.WriteAllText(Path.Combine(dir, "load.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions(Json.Web) { WriteIndented = true }));
    }

    private static PhaseResult Phase(string name, int requests, TimeSpan elapsed) =>
        new(name, requests, elapsed.TotalSeconds, requests / elapsed.TotalSeconds);

    /// <summary>Nearest-rank percentiles of the latencies in milliseconds.</summary>
    private static LatencyResult Stats(string endpoint, IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        Assert.NotEmpty(sorted);
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LatencyResult(endpoint, sorted.Length, Rank(0.50), Rank(0.99), sorted[^1]);
    }

    private sealed record PhaseResult(string Name, int Requests, double Seconds, double RequestsPerSecond);
    private sealed record LatencyResult(string Endpoint, int Count, double P50Ms, double P99Ms, double MaxMs);
    private sealed record LoadReport(int Cores, int MaxConcurrency, int Clients, PhaseResult Mixed, PhaseResult Verify,
        LatencyResult[] Latency, SortedDictionary<string, int> Statuses);
}
