using System.Diagnostics;
using System.Globalization;
using FaceNetSharp.Cluster;
using Npgsql;

// dotnet run -c Release --project bench/FaceNetSharp.Cluster.Bench -- --dir DIR [--faces 1000000] [--silos 3]
//   [--faces-per-person 2] [--batch 50000] [--queries 300] [--dims 192] [--shards N] [--enrol-minutes M] [--keep]
// Starts a cluster with scripts/cluster.sh (PostgreSQL + silos on 127.0.0.1, data in DIR), enrols synthetic faces in
// batches (binary COPY, one transaction per shard, then the shards load them), measures identify latency, the silos'
// memory, PostgreSQL's size, and the recovery after a silo is killed with SIGKILL; stops the cluster unless --keep.
// --enrol-minutes stops the enrolment after M minutes (what was reached is measured); FACENET_PG_OPTIONS passes
// PostgreSQL settings through cluster.sh. --existing reuses DIR's database as an earlier run with the same --faces left
// it (the faces are generated again to know the queries' people, not stored): it measures a restarted cluster.
var options = Args.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: FaceNetSharp.Cluster.Bench --dir DIR [--faces N] [--silos N] [--faces-per-person N] [--batch N] [--queries N] [--dims N] [--shards N] [--enrol-minutes M] [--keep]");
    return 2;
}
string repo = FindRepo();
string dir = Path.GetFullPath(options.Dir);
Directory.CreateDirectory(dir);
var facenet = $"dotnet {Path.Combine(repo, "src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll")}";
Console.WriteLine($"cluster benchmark: {options.Faces:N0} faces of {options.Dims} dims ({options.FacesPerPerson} per person), {options.Silos} silos, " +
    $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB");
if (options.Shards is { } shardCount) Environment.SetEnvironmentVariable("FACENET_SHARDS", shardCount.ToString(CultureInfo.InvariantCulture));
var up = Shell(repo, "up", dir, options.Silos.ToString(CultureInfo.InvariantCulture));
var connection = up.TrimEnd().Split('\n')[^1]["FACENET_CLUSTER=".Length..];
try
{
    const string model = "synthetic-bench";
    await using var gallery = await ClusterGallery.OpenAsync(connection, model, options.Dims,
        options: new ClusterClientOptions { CallDeadline = TimeSpan.FromSeconds(600), Shards = options.Shards });

    // 1. Enrol.
    var random = new Random(1);
    var directions = new List<float[]>(); // kept for a sample of people, to query with
    long freeBefore = new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
    var enrol = Stopwatch.StartNew();
    int person = 0;
    long enrolled = 0;
    var enrolLimit = options.EnrolMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : TimeSpan.MaxValue;
    for (long done = 0; done < options.Faces;)
    {
        if (enrol.Elapsed > enrolLimit)
        {
            Console.WriteLine($"  --enrol-minutes {options.EnrolMinutes}: enrolment stopped at {done:N0} faces");
            break;
        }
        int batchFaces = (int)Math.Min(options.Batch, options.Faces - done);
        var batch = new List<(string, IReadOnlyList<StoredFace>)>();
        var now = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        for (int f = 0; f < batchFaces; person++)
        {
            var direction = Vector(random, options.Dims);
            if (person % 1000 == 0) directions.Add(direction);
            var faces = new List<StoredFace>();
            for (int k = 0; k < options.FacesPerPerson && f < batchFaces; k++, f++)
                faces.Add(new StoredFace(Unit(Noisy(direction, random)), null, now));
            batch.Add(($"p{person:D9}", faces));
        }
        // an existing gallery: only as far as the queries' people (one in 1000), whose directions the queries need
        if (options.Existing && directions.Count >= options.Queries) { enrolled = options.Faces; break; }
        if (!options.Existing) await gallery.AddPeopleAsync(batch);
        done += batchFaces;
        enrolled = done;
        // every 1M faces: the silos' memory too, so that a run stopped early still shows how it grows
        string memory = done % 1_000_000 < batchFaces ? $", silos' RSS {string.Join(" / ", SiloRss(dir, options.Silos).Select(r => $"{r / (1 << 20):N0}"))} MiB" : "";
        if (!options.Existing) Console.WriteLine($"  {DateTime.UtcNow:HH:mm:ss} enrolled {done:N0} faces, {done / enrol.Elapsed.TotalSeconds:N0} faces/s{memory}");
    }
    if (options.Existing)
    {
        // nothing was enrolled: the loop above only drew the queries' directions, so there is no rate to report
        Console.WriteLine($"enrol: skipped (--existing: the gallery in {dir} is used as an earlier run with --faces {options.Faces:N0} left it)");
    }
    else
    {
        double enrolRate = enrolled / enrol.Elapsed.TotalSeconds;
        Console.WriteLine($"disk used during the enrolment: {(freeBefore - new DriveInfo(Path.GetTempPath()).AvailableFreeSpace) / (double)(1L << 30):F1} GiB " +
            $"(PostgreSQL's data and WAL, and the silos' float32 vectors in {Path.GetTempPath()}, where they share its file system)");
        Console.WriteLine($"enrol: {enrolled:N0} faces in {enrol.Elapsed.TotalSeconds:F1} s = {enrolRate:N0} faces/s (committed to PostgreSQL and loaded by the shards)");
    }

    // 2. Identify, one at a time (latency) and 4 at a time (throughput).
    var firstCount = Stopwatch.StartNew();
    int count = await gallery.FaceCountAsync();
    Console.WriteLine($"the first call (every shard loads from PostgreSQL if not yet loaded) took {firstCount.Elapsed.TotalSeconds:F1} s");
    Console.WriteLine($"the silos hold {count:N0} faces in {gallery.Shards} shards");
    for (int i = 0; i < 10; i++) await gallery.IdentifyAsync(Unit(Noisy(directions[i % directions.Count], random)), 5, 0.5f);
    var latencies = new List<double>();
    for (int i = 0; i < options.Queries; i++)
    {
        var query = Unit(Noisy(directions[i % directions.Count], random));
        var watch = Stopwatch.StartNew();
        var matches = await gallery.IdentifyAsync(query, 5, 0.5f);
        latencies.Add(watch.Elapsed.TotalMilliseconds);
        if (matches.Count != 5 || matches[0].Person != $"p{(i % directions.Count) * 1000:D9}")
            throw new InvalidOperationException($"query {i}: wrong answer {matches.FirstOrDefault()?.Person}");
    }
    latencies.Sort();
    Console.WriteLine($"identify (top 5, one at a time, {options.Queries} queries): p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms");
    var parallel = Stopwatch.StartNew();
    int parallelQueries = options.Queries;
    await Parallel.ForEachAsync(Enumerable.Range(0, parallelQueries), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        await gallery.IdentifyAsync(Unit(Noisy(directions[i % directions.Count], new Random(i))), 5, 0.5f, ct));
    Console.WriteLine($"identify throughput (4 at a time): {parallelQueries / parallel.Elapsed.TotalSeconds:F1} identify/s");

    // 3. Memory and storage.
    for (int n = 1; n <= options.Silos; n++)
    {
        int pid = int.Parse(File.ReadAllText(Path.Combine(dir, $"silo-{n}.pid")).Trim(), CultureInfo.InvariantCulture);
        Console.WriteLine($"silo {n} (pid {pid}): RSS {Rss(pid) / (1 << 20):N0} MiB, peak {Rss(pid, "VmHWM") / (1 << 20):N0} MiB");
    }
    await using (var db = new NpgsqlConnection(connection))
    {
        await db.OpenAsync();
        await using var size = new NpgsqlCommand("SELECT pg_database_size(current_database())", db);
        Console.WriteLine($"PostgreSQL database: {(long)(await size.ExecuteScalarAsync())! / (1 << 20):N0} MiB for {count:N0} faces");
    }

    // 4. Kill the silo with the most shards; time until identify answers completely again.
    var homes = await gallery.ShardSilosAsync();
    int victim = Enumerable.Range(1, options.Silos).MaxBy(n => homes.Count(h => h.EndsWith(":" + File.ReadAllText(Path.Combine(dir, $"silo-{n}.port")).Trim(), StringComparison.Ordinal)));
    int victimPid = int.Parse(File.ReadAllText(Path.Combine(dir, $"silo-{victim}.pid")).Trim(), CultureInfo.InvariantCulture);
    var probe = Unit(Noisy(directions[0], random));
    var clock = Stopwatch.StartNew();
    Process.GetProcessById(victimPid).Kill();
    var first = await gallery.IdentifyAsync(probe, 5, 0.5f);
    double firstAnswer = clock.Elapsed.TotalSeconds;
    double normal = firstAnswer;
    while (clock.Elapsed.TotalSeconds < firstAnswer + 60)
    {
        var w = Stopwatch.StartNew();
        await gallery.IdentifyAsync(probe, 5, 0.5f);
        if (w.Elapsed.TotalMilliseconds < Percentile(latencies, 0.99) * 2) { normal = clock.Elapsed.TotalSeconds; break; }
    }
    Console.WriteLine($"SIGKILL of silo {victim} ({homes.Count(h => h.EndsWith(":" + File.ReadAllText(Path.Combine(dir, $"silo-{victim}.port")).Trim(), StringComparison.Ordinal))} of {homes.Count} shards): " +
        $"the first identify after it answered completely ({first.Count} people, {first[0].Person}) after {firstAnswer:F1} s; latency normal again after {normal:F1} s; " +
        $"the silos now hold {await gallery.FaceCountAsync():N0} faces");
    for (int n = 1; n <= options.Silos; n++)
    {
        if (n == victim) continue;
        int pid = int.Parse(File.ReadAllText(Path.Combine(dir, $"silo-{n}.pid")).Trim(), CultureInfo.InvariantCulture);
        Console.WriteLine($"silo {n} after taking over: RSS {Rss(pid) / (1 << 20):N0} MiB");
    }
}
finally
{
    if (!options.Keep) Shell(repo, "down", dir);
}
return 0;

static float[] Vector(Random random, int dims)
{
    var v = new float[dims];
    for (int i = 0; i < dims; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
    return v;
}

static float[] Noisy(float[] direction, Random random)
{
    var v = new float[direction.Length];
    for (int i = 0; i < v.Length; i++) v[i] = direction[i] + 0.3f * (float)(random.NextDouble() * 2 - 1);
    return v;
}

static float[] Unit(float[] v)
{
    float norm = MathF.Sqrt(v.Sum(x => x * x));
    return v.Select(x => x / norm).ToArray();
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static IEnumerable<long> SiloRss(string dir, int silos)
{
    for (int n = 1; n <= silos; n++)
    {
        var pidFile = Path.Combine(dir, $"silo-{n}.pid");
        yield return File.Exists(pidFile) ? Rss(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture)) : 0;
    }
}

static long Rss(int pid, string field = "VmRSS")
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        if (line.StartsWith(field + ":", StringComparison.Ordinal))
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    return 0;
}

static string Shell(string repo, params string[] args)
{
    var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
    start.ArgumentList.Add(Path.Combine(repo, "scripts", "cluster.sh"));
    foreach (var a in args) start.ArgumentList.Add(a);
    using var p = Process.Start(start)!;
    var text = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    Console.Write(text);
    if (p.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {string.Join(' ', args)} failed ({p.ExitCode})");
    return text;
}

static string FindRepo()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "FaceNetSharp.slnx"))) d = d.Parent;
    return d?.FullName ?? throw new InvalidOperationException("FaceNetSharp.slnx not found above " + AppContext.BaseDirectory);
}

internal sealed record Args(string Dir, long Faces, int Silos, int FacesPerPerson, int Batch, int Queries, int Dims, bool Keep, int? Shards, double? EnrolMinutes, bool Existing)
{
    public static Args? Parse(string[] args)
    {
        string? dir = null;
        long faces = 1_000_000;
        int silos = 3, perPerson = 2, batch = 50_000, queries = 300, dims = 192;
        bool keep = false;
        int? shards = null;
        double? enrolMinutes = null;
        bool existing = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--dir": dir = Next(); break;
                case "--faces": faces = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--silos": silos = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--faces-per-person": perPerson = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--queries": queries = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--dims": dims = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--keep": keep = true; break;
                case "--existing": existing = true; break;
                case "--shards": shards = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--enrol-minutes": enrolMinutes = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: return null;
            }
        }
        return dir is null || faces < 1000 || silos < 1 || perPerson < 1 || batch < 1 || queries < 1 ? null : new Args(dir, faces, silos, perPerson, batch, queries, dims, keep, shards, enrolMinutes, existing);
    }
}
