using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaceNetSharp.Models;
using Npgsql;
using Xunit.Abstractions;

namespace FaceNetSharp.Cluster.Tests;

/// <summary>
/// <c>facenet serve --cluster</c>: two HTTP servers (processes) over one cluster of two <c>facenet silo</c> processes, with
/// its own database in the fixture's PostgreSQL (the fixture's gallery is bound to the synthetic model; these enrol
/// real photos with the default model), against a third server on a local SQLite gallery.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ServeClusterTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string Database = "servetest";

    private static string Photo(string person, int n) =>
        TestPaths.Shared("faces", "face-api-js-images", "examples", "images", person, $"{person}{n}.png");

    [SkippableFact]
    public async Task Two_servers_over_one_cluster_answer_as_a_local_gallery_and_say_503_when_the_cluster_is_gone()
    {
        Skip.IfNot(cluster.Available, "PostgreSQL is not installed (initdb not found)");
        var store = new ModelStore();
        Skip.IfNot(store.IsInstalled("mobilefacenet") && store.IsInstalled("mtcnn-onet"),
            $"the default models are not installed in {store.Directory} (facenet models install)");
        string[] people = ["amy", "howard", "penny", "sheldon"];
        var enrol = people.ToDictionary(p => p, p => new[] { Photo(p, 1), Photo(p, 2) });
        var probes = people.Select(p => Photo(p, 3)).ToList();

        await using (var admin = new NpgsqlConnection(cluster.Connection))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", admin).ExecuteNonQueryAsync();
            await new NpgsqlCommand($"CREATE DATABASE {Database}", admin).ExecuteNonQueryAsync();
        }
        var connection = cluster.Connection.Replace("Database=facenet", $"Database={Database}");
        var dir = Directory.CreateTempSubdirectory("facenet-serve-cluster-");
        var processes = new List<RunningProcess>();
        try
        {
            // Two silos creating the gallery with 6 shards; a third asking for 8 is refused in one line, exit 2.
            var silos = new List<RunningProcess>();
            for (int i = 0; i < 2; i++)
            {
                var silo = RunningProcess.Start(output, $"silo{i + 1}", ["silo", "--postgres", connection, "--shards", "6",
                    "--port", FreePort().ToString(), "--gateway-port", FreePort().ToString()]);
                processes.Add(silo);
                silos.Add(silo);
            }
            foreach (var silo in silos) await silo.WaitForAsync(ClusterSilo.ListeningLine, TimeSpan.FromMinutes(2));
            var refused = RunningProcess.Start(output, "silo8", ["silo", "--postgres", connection, "--shards", "8",
                "--port", FreePort().ToString(), "--gateway-port", FreePort().ToString()]);
            processes.Add(refused);
            Assert.Equal(2, await refused.ExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("was created with 6 shards, not 8", refused.Output);
            Assert.DoesNotContain("   at ", refused.Output);
            //    and so is a library client asking for another count
            var client = await Assert.ThrowsAsync<ArgumentException>(() => ClusterGallery.OpenAsync(connection, "any-model", 192,
                options: new ClusterClientOptions { Shards = 7 }));
            Assert.Contains("was created with 6 shards, not 7", client.Message);

            // Two servers on the cluster, one on a local SQLite gallery.
            var a = RunningProcess.Start(output, "serveA", ["serve", "--cluster", connection, "--urls", "http://127.0.0.1:0"]);
            // (B's queue time-out is long enough for the 48 identifies below to be embedded one after another)
            var b = RunningProcess.Start(output, "serveB", ["serve", "--urls", "http://127.0.0.1:0", "--queue-timeout-ms", "60000"], clusterVariable: connection);
            var local = RunningProcess.Start(output, "serveLocal", ["serve", "--gallery", Path.Combine(dir.FullName, "local.db"), "--urls", "http://127.0.0.1:0"]);
            processes.AddRange([a, b, local]);
            using var httpA = await ClientAsync(a);
            using var httpB = await ClientAsync(b);
            using var httpLocal = await ClientAsync(local);
            Assert.Contains($"Gallery: the cluster (PostgreSQL at 127.0.0.1:", b.Output); // FACENET_CLUSTER made B a cluster client
            Assert.Contains("6 shards", silos[0].Output);

            // Enrol through A (and the same photos into the local gallery); identify through B.
            foreach (var (person, photos) in enrol)
            {
                var created = await Ok(await httpA.PostAsync($"/v1/gallery/{person}", Form(photos)), HttpStatusCode.Created);
                Assert.Equal(await Ok(await httpLocal.PostAsync($"/v1/gallery/{person}", Form(photos)), HttpStatusCode.Created), created);
            }
            Assert.Equal(await Ok(await httpLocal.GetAsync("/v1/gallery")), await Ok(await httpB.GetAsync("/v1/gallery")));
            foreach (var probe in probes)
            {
                var expected = await Ok(await httpLocal.PostAsync("/v1/identify?top=3", Form([probe])));
                var actual = await Ok(await httpB.PostAsync("/v1/identify?top=3", Form([probe])));
                Assert.Equal(expected, actual); // boxes, names, distances, threshold: the same JSON
                Assert.Contains($"\"person\":\"{Path.GetFileNameWithoutExtension(probe)[..^1]}\"", actual);
            }
            // Removal through B is seen through A.
            Assert.Equal(HttpStatusCode.NoContent, (await httpB.DeleteAsync("/v1/gallery/penny")).StatusCode);
            Assert.DoesNotContain("penny", await Ok(await httpA.GetAsync("/v1/gallery")));

            // The silos print their start and the shards they load, not Orleans' own messages.
            Assert.Contains(" shard ", string.Join('\n', silos.Select(s => s.Output)));
            Assert.DoesNotContain("info ", silos[0].Output);

            // Every silo gone: identify is a 503 problem with a message, within the client's bounded wait; the
            // listing reads PostgreSQL and still answers.
            //    Many identifies waiting on the cluster at once do not hold a server thread each: the server still
            //    answers at once meanwhile.
            foreach (var silo in silos) silo.Kill();
            var watch = Stopwatch.StartNew();
            var waiting = Enumerable.Range(0, 48).Select(_ => httpB.PostAsync("/v1/identify", Form([probes[0]]))).ToList();
            await Task.Delay(TimeSpan.FromSeconds(8));
            var healthWatch = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await httpB.GetAsync("/health")).StatusCode);
            output.WriteLine($"/health while {waiting.Count(w => !w.IsCompleted)} identifies waited on the cluster: {healthWatch.Elapsed.TotalMilliseconds:F0} ms");
            Assert.True(healthWatch.Elapsed < TimeSpan.FromSeconds(2), $"/health took {healthWatch.Elapsed} while identifies waited on the cluster");
            var gone = await waiting[0];
            output.WriteLine($"identify with no silo: {(int)gone.StatusCode} after {watch.Elapsed.TotalSeconds:F1} s");
            await AssertProblemAsync(gone, "the cluster did not "); // count people (for the threshold) or identify
            foreach (var other in waiting.Skip(1)) await AssertProblemAsync(await other, "the cluster did not ");
            output.WriteLine($"all {waiting.Count} identifies answered 503 after {watch.Elapsed.TotalSeconds:F1} s");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"took {watch.Elapsed}");
            Assert.Equal(HttpStatusCode.OK, (await httpA.GetAsync("/v1/gallery")).StatusCode);

            // PostgreSQL gone (the database dropped under the servers): a 503 naming it, not a hang or a 500.
            await using (var admin = new NpgsqlConnection(cluster.Connection))
            {
                await admin.OpenAsync();
                await new NpgsqlCommand($"DROP DATABASE {Database} WITH (FORCE)", admin).ExecuteNonQueryAsync();
            }
            watch.Restart();
            await AssertProblemAsync(await httpA.GetAsync("/v1/gallery"), "cannot reach PostgreSQL at 127.0.0.1:");
            await AssertProblemAsync(await httpA.PostAsync("/v1/gallery/raj", Form([Photo("raj", 1)])), "cannot reach PostgreSQL at 127.0.0.1:");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");

            // A server started on an unreachable cluster: one line, exit 2.
            var closed = RunningProcess.Start(output, "serveClosed", ["serve", "--urls", "http://127.0.0.1:0",
                "--cluster", $"Host=127.0.0.1;Port={FreePort()};Username=facenet;Database=facenet"]);
            processes.Add(closed);
            Assert.Equal(2, await closed.ExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("error: cannot reach PostgreSQL at 127.0.0.1:", closed.Output);
            Assert.DoesNotContain("   at ", closed.Output);
        }
        finally
        {
            foreach (var p in processes) p.Dispose();
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Gallery unavailable", json.RootElement.GetProperty("title").GetString());
        Assert.Contains(detail, json.RootElement.GetProperty("detail").GetString());
        Assert.True(response.Headers.RetryAfter is not null, "no Retry-After");
    }

    private static async Task<string> Ok(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    private static MultipartFormDataContent Form(IEnumerable<string> photos)
    {
        var form = new MultipartFormDataContent();
        foreach (var photo in photos)
        {
            var file = new ByteArrayContent(File.ReadAllBytes(photo));
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "image", Path.GetFileName(photo));
        }
        return form;
    }

    private static async Task<HttpClient> ClientAsync(RunningProcess server)
    {
        var line = await server.WaitForAsync("Listening on http://127.0.0.1:", TimeSpan.FromMinutes(2));
        var url = ListeningUrl().Match(line).Value;
        return new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex ListeningUrl();

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>A <c>facenet</c> process (the CLI built beside the tests) whose output is collected as it comes.</summary>
    private sealed class RunningProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly ITestOutputHelper _log;
        private readonly string _name;

        private RunningProcess(Process process, ITestOutputHelper log, string name)
        {
            _process = process;
            _log = log;
            _name = name;
        }

        public string Output { get { lock (_output) return _output.ToString(); } }

        public static RunningProcess Start(ITestOutputHelper log, string name, string[] args, string? clusterVariable = null)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "facenet.dll"));
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment.Remove("FACENET_CLUSTER");
            if (clusterVariable is not null) start.Environment["FACENET_CLUSTER"] = clusterVariable;
            var running = new RunningProcess(new Process { StartInfo = start }, log, name);
            running._process.OutputDataReceived += (_, e) => running.Add(e.Data);
            running._process.ErrorDataReceived += (_, e) => running.Add(e.Data);
            running._process.Start();
            running._process.BeginOutputReadLine();
            running._process.BeginErrorReadLine();
            return running;
        }

        private void Add(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
            try { _log.WriteLine($"[{_name}] {line}"); } catch (InvalidOperationException) { /* the test has ended */ }
        }

        /// <summary>The first output line holding <paramref name="text"/>; fails when the process exits or time runs out.</summary>
        public async Task<string> WaitForAsync(string text, TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                if (line is not null) return line.TrimEnd('\r');
                if (_process.HasExited) throw new InvalidOperationException($"{_name} exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
                if (watch.Elapsed > limit) throw new TimeoutException($"{_name} did not print '{text}' within {limit}:\n{Output}");
                await Task.Delay(200);
            }
        }

        public async Task<int> ExitAsync(TimeSpan limit)
        {
            using var cancel = new CancellationTokenSource(limit);
            await _process.WaitForExitAsync(cancel.Token);
            _process.WaitForExit(); // the output's end
            return _process.ExitCode;
        }

        /// <summary>SIGKILL.</summary>
        public void Kill()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
