using System.Diagnostics;
using System.Text.Json;
using FaceNetSharp.Recognition;
using Microsoft.Data.Sqlite;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>The SQLite gallery on real temporary files.</summary>
public sealed class FaceGalleryTests : IDisposable
{
    private const string Model = "test-model";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "facenetsharp-gallery-" + Guid.NewGuid().ToString("N"));

    public FaceGalleryTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string File(string name = "gallery.db") => Path.Combine(_dir, name);

    private static (float[], string?)[] Faces(params float[][] vectors) => vectors.Select(v => (v, (string?)null)).ToArray();

    [Fact]
    public void RemovingFaces_TakesThemOutOfTheIndex_WithoutReloadingIt()
    {
        var random = new Random(3);
        using var g = FaceGallery.Open(File(), Model, 16);
        var alice = SyntheticVectors.UnitVector(random, 16);
        g.AddFaces("alice", Faces(alice));
        for (int p = 0; p < 20; p++) g.AddFaces($"p{p}", Faces(SyntheticVectors.UnitVector(random, 16), SyntheticVectors.UnitVector(random, 16)));
        Assert.Equal("alice", g.Identify(alice, 1, 0.5f)[0].Person);
        int reloads = g.Reloads;

        // this instance removes a person; a second instance on the same file sees it through data_version
        Assert.True(g.Remove("alice"));
        using var other = FaceGallery.Open(File(), Model, 16);
        Assert.True(other.Remove("p3"));
        Assert.All(g.Identify(alice, 30, 2f), m => Assert.NotEqual("alice", m.Person));
        Assert.DoesNotContain(g.Identify(alice, 30, 2f), m => m.Person == "p3");
        Assert.Equal(19, g.PeopleCount);
        Assert.Equal(38, g.FaceCount);
        Assert.Equal(reloads, g.Reloads); // removed in place, not reloaded

        // added back after the removal: found again, as a new person
        g.AddFaces("alice", Faces(alice));
        Assert.Equal("alice", g.Identify(alice, 1, 0.5f)[0].Person);
        Assert.Equal(20, g.PeopleCount);
        Assert.Equal(reloads, g.Reloads);
    }

    [Fact]
    public void AddListRemoveIdentify_HandMadeVectors()
    {
        using var g = FaceGallery.Open(File(), Model, 4);
        Assert.Equal(2, g.AddFaces("alice", [([1, 0, 0, 0], "a1.jpg"), ([0.9f, 0.1f, 0, 0], "a2.jpg")]));
        Assert.Equal(1, g.AddFaces("bob", Faces([0, 2, 0, 0]))); // not unit length: normalised to (0,1,0,0)

        Assert.Equal([new GalleryPerson("alice", 2), new GalleryPerson("bob", 1)], g.List());
        Assert.Equal(2, g.FaceCountOf("alice"));
        Assert.Equal(1, g.FaceCountOf("bob"));
        Assert.Equal(0, g.FaceCountOf("carol"));

        // Query (1,0,0,0): alice's first face is identical (cosine distance 0); bob is orthogonal (distance 1).
        var m = g.Identify([1, 0, 0, 0], top: 5, threshold: 0.5f);
        Assert.Equal(2, m.Count);
        Assert.Equal("alice", m[0].Person);
        Assert.Equal(0f, m[0].Distance, 1e-6f);
        Assert.True(m[0].IsKnown);
        Assert.Equal("bob", m[1].Person);
        Assert.Equal(1f, m[1].Distance, 1e-6f);
        Assert.False(m[1].IsKnown);

        // top limits the answer to the best person.
        Assert.Single(g.Identify([1, 0, 0, 0], top: 1, threshold: 0.5f));

        // A query orthogonal to everyone is unknown: every distance is 1, above the threshold.
        Assert.All(g.Identify([0, 0, 1, 0], 5, 0.5f), x => { Assert.False(x.IsKnown); Assert.Equal(1f, x.Distance, 1e-6f); });

        Assert.True(g.Remove("alice"));
        Assert.False(g.Remove("alice"));
        Assert.Equal([new GalleryPerson("bob", 1)], g.List());
        Assert.Equal(0, g.FaceCountOf("alice"));
        var after = g.Identify([1, 0, 0, 0], 5, 0.5f);
        Assert.Equal("bob", Assert.Single(after).Person);
    }

    [Fact]
    public void Identify_Euclidean_BestFacePerPerson()
    {
        using var g = FaceGallery.Open(File(), Model, 4, EmbeddingMetric.Euclidean);
        g.AddFaces("alice", Faces([1, 0, 0, 0], [0.9f, 0.1f, 0, 0]));
        g.AddFaces("bob", Faces([0, 0, 1, 0]));
        // Query (0,1,0,0). alice's best face is (0.9,0.1)/|.| : dot = 0.1/sqrt(0.82) = 0.110432,
        // euclidean = sqrt(2 - 2 * 0.110432) = sqrt(1.779137) = 1.333842; bob: dot 0 -> sqrt(2) = 1.414214.
        var m = g.Identify([0, 1, 0, 0], 5, threshold: 1.0f);
        Assert.Equal(["alice", "bob"], m.Select(x => x.Person));
        Assert.Equal(1.333842f, m[0].Distance, 1e-5f);
        Assert.Equal(1.414214f, m[1].Distance, 1e-5f);
        Assert.All(m, x => Assert.False(x.IsKnown));
    }

    [Fact]
    public void Identify_EmptyGallery_ReturnsNothing()
    {
        using var g = FaceGallery.Open(File(), Model, 3);
        Assert.Empty(g.Identify([1, 0, 0], 3, 0.5f));
    }

    [Fact]
    public void Open_OtherModelOrDimensions_IsRefusedNamingBoth()
    {
        FaceGallery.Open(File(), Model, 4).Dispose();

        var e = Assert.Throws<EmbeddingModelMismatchException>(() => FaceGallery.Open(File(), "other-model", 4));
        Assert.Contains("test-model", e.Message);
        Assert.Contains("other-model", e.Message);
        Assert.Contains(File(), e.Message);

        var d = Assert.Throws<EmbeddingModelMismatchException>(() => FaceGallery.Open(File(), Model, 8));
        Assert.Equal(4, d.StoredDimensions);
        Assert.Equal(8, d.RequestedDimensions);

        using var ok = FaceGallery.Open(File(), Model, 4);
        Assert.Empty(ok.List());
    }

    [Fact]
    public void Open_NotAGallery_IsAClearError()
    {
        System.IO.File.WriteAllText(File("junk.db"), new string('x', 4096));
        var e = Assert.Throws<InvalidDataException>(() => FaceGallery.Open(File("junk.db"), Model, 4));
        Assert.Contains("junk.db", e.Message);

        using (var c = new SqliteConnection($"Data Source={File("other.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE t (x INTEGER)";
            cmd.ExecuteNonQuery();
        }
        Assert.Contains("not a face gallery", Assert.Throws<InvalidDataException>(() => FaceGallery.Open(File("other.db"), Model, 4)).Message);
    }

    [Fact]
    public void AddFaces_BadVector_AddsNothing()
    {
        using var g = FaceGallery.Open(File(), Model, 3);
        Assert.Throws<ArgumentException>(() => g.AddFaces("carol", Faces([1, 0, 0], [1, 0], [0, 1, 0])));
        Assert.Throws<ArgumentException>(() => g.AddFaces("carol", Faces([0, 0, 0])));
        Assert.Throws<ArgumentException>(() => g.AddFaces("carol", Faces([float.NaN, 0, 1])));
        Assert.Empty(g.List());
        Assert.Equal(0, g.FaceCount);
    }

    [Fact]
    public void Reopen_AfterDispose_ShowsEverything()
    {
        var random = new Random(1);
        var vectors = Enumerable.Range(0, 30).Select(_ => SyntheticVectors.UnitVector(random, 16)).ToArray();
        using (var g = FaceGallery.Open(File(), Model, 16))
        {
            for (int p = 0; p < 3; p++) g.AddFaces($"person{p}", vectors.Skip(p * 10).Take(10).Select((v, i) => (v, (string?)$"img{i}.jpg")));
        }
        using var again = FaceGallery.Open(File(), Model, 16);
        Assert.Equal(Enumerable.Range(0, 3).Select(p => new GalleryPerson($"person{p}", 10)), again.List());
        Assert.Equal(30, again.FaceCount);
        for (int i = 0; i < vectors.Length; i++)
        {
            var best = again.Identify(vectors[i], 1, 0.01f)[0];
            Assert.Equal($"person{i / 10}", best.Person);
            Assert.True(best.Distance < 1e-6f, $"stored vector {i} differs: distance {best.Distance}");
            Assert.True(best.IsKnown);
        }
    }

    [Fact]
    public async Task TwoInstancesOnTwoThreads_AddingAtOnce_LoseNothing()
    {
        const int PerWriter = 200;
        var random = new Random(2);
        var vectors = Enumerable.Range(0, 2 * PerWriter).Select(_ => SyntheticVectors.UnitVector(random, 8)).ToArray();
        using var a = FaceGallery.Open(File(), Model, 8);
        using var b = FaceGallery.Open(File(), Model, 8);
        using var start = new Barrier(2);
        void Write(FaceGallery g, int writer)
        {
            start.SignalAndWait();
            for (int i = 0; i < PerWriter; i++)
            {
                // One transaction per face, alternating between the writer's own person and one both write to
                // (both create "shared" at the start: the find-or-create must not race).
                string person = i % 2 == 0 ? "shared" : $"writer{writer}";
                g.AddFaces(person, [(vectors[writer * PerWriter + i], $"w{writer}-{i}")]);
                if (i % 50 == 0) g.Identify(vectors[0], 1, 0.5f); // read while the other writes
            }
        }
        var t1 = Task.Run(() => Write(a, 0));
        var t2 = Task.Run(() => Write(b, 1));
        await Task.WhenAll(t1, t2);

        var expected = new[] { new GalleryPerson("shared", PerWriter), new GalleryPerson("writer0", PerWriter / 2), new GalleryPerson("writer1", PerWriter / 2) };
        Assert.Equal(expected, a.List());
        // Each instance sees the other's faces in its in-memory matrix.
        Assert.Equal(2 * PerWriter, a.FaceCount);
        Assert.Equal(2 * PerWriter, b.FaceCount);
        using var c = FaceGallery.Open(File(), Model, 8);
        Assert.Equal(expected, c.List());
        for (int i = 0; i < vectors.Length; i++)
            Assert.True(c.Identify(vectors[i], 1, 0.01f)[0].Distance < 1e-6f, $"face {i} is missing");
    }

    [Fact]
    public void Refresh_SeesAnotherInstancesRemovalAndAdds()
    {
        using var a = FaceGallery.Open(File(), Model, 2);
        using var b = FaceGallery.Open(File(), Model, 2);
        a.AddFaces("x", Faces([1, 0]));
        a.AddFaces("y", Faces([0, 1]));
        Assert.Equal("x", b.Identify([1, 0], 1, 0.5f)[0].Person);

        b.Remove("x"); // not an append: a reloads
        Assert.Equal(["y"], a.Identify([1, 0], 5, 0.5f).Select(m => m.Person));

        b.AddFaces("x", Faces([1, 0.01f])); // an append after the removal: read incrementally
        var m = a.Identify([1, 0], 5, 0.5f);
        Assert.Equal(["x", "y"], m.Select(x => x.Person));
        Assert.True(m[0].IsKnown);
    }

    [Fact]
    public void ExportImport_RoundTrip()
    {
        var random = new Random(3);
        using var source = FaceGallery.Open(File("a.db"), Model, 12);
        var vectors = Enumerable.Range(0, 9).Select(_ => SyntheticVectors.UnitVector(random, 12)).ToArray();
        source.AddFaces("ann", vectors.Take(4).Select((v, i) => (v, (string?)$"ann{i}.png")));
        source.AddFaces("ben", vectors.Skip(4).Select(v => (v, (string?)null)));

        var json = File("export.json");
        source.Export(json);
        source.Export(json); // replacing an existing export works too
        Assert.Equal(["export.json"], Directory.GetFiles(_dir, "*.json*").Select(Path.GetFileName)); // no temp files left

        using (var doc = JsonDocument.Parse(System.IO.File.ReadAllText(json)))
        {
            Assert.Equal(Model, doc.RootElement.GetProperty("modelId").GetString());
            Assert.Equal(12, doc.RootElement.GetProperty("dimensions").GetInt32());
            var ann = doc.RootElement.GetProperty("people")[0];
            Assert.Equal("ann", ann.GetProperty("name").GetString());
            Assert.Equal("ann0.png", ann.GetProperty("faces")[0].GetProperty("source").GetString());
            Assert.Equal(12, ann.GetProperty("faces")[0].GetProperty("vector").GetArrayLength());
        }

        using var target = FaceGallery.Open(File("b.db"), Model, 12);
        Assert.Equal(9, target.Import(json));
        Assert.Equal(source.List(), target.List());
        foreach (var v in vectors)
        {
            var expected = source.Identify(v, 2, 0.3f);
            var actual = target.Identify(v, 2, 0.3f);
            Assert.Equal(expected.Select(x => x.Person), actual.Select(x => x.Person));
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Distance, actual[i].Distance, 1e-6f);
        }

        using var other = FaceGallery.Open(File("c.db"), "another-model", 12);
        Assert.Throws<EmbeddingModelMismatchException>(() => other.Import(json));
        Assert.Empty(other.List());
    }

    /// <summary>The sqlite3 command-line shell, when installed: a second process to write the same file.</summary>
    private static string? Sqlite3()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var p = Path.Combine(dir, "sqlite3");
            if (System.IO.File.Exists(p)) return p;
        }
        return null;
    }

    private static string Hex(float[] v) => Convert.ToHexString(v.SelectMany(BitConverter.GetBytes).ToArray());

    [SkippableFact]
    public async Task TwoProcesses_AddingAtOnce_LoseNothing()
    {
        var sqlite3 = Sqlite3();
        Skip.If(sqlite3 is null, "the sqlite3 shell is not installed: no second process to write with");
        Skip.IfNot(BitConverter.IsLittleEndian, "the shell script writes little-endian blobs from this machine's bytes");
        const int PerWriter = 200;
        var random = new Random(4);
        var ours = Enumerable.Range(0, PerWriter).Select(_ => SyntheticVectors.UnitVector(random, 8)).ToArray();
        var theirs = Enumerable.Range(0, PerWriter).Select(_ => SyntheticVectors.UnitVector(random, 8)).ToArray();
        using var g = FaceGallery.Open(File(), Model, 8);
        g.AddFaces("other", Faces(theirs[0])); // the other process's person exists (id 1)

        // The other process: one IMMEDIATE transaction per face, waiting up to 30 s for our locks (.timeout).
        var script = new System.Text.StringBuilder(".timeout 30000\n");
        foreach (var v in theirs.Skip(1))
            script.Append($"BEGIN IMMEDIATE; INSERT INTO faces (person_id, vector, source, added_at) VALUES (1, X'{Hex(v)}', 'sqlite3', '2024-01-01T00:00:00Z'); COMMIT;\n");
        var psi = new ProcessStartInfo(sqlite3!, File()) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var writer = Task.Run(() => { process.StandardInput.Write(script.ToString()); process.StandardInput.Close(); });
        for (int i = 0; i < PerWriter; i++) g.AddFaces("ours", [(ours[i], null)]);
        await writer;
        Assert.True(process.WaitForExit(60_000), "sqlite3 did not finish");
        Assert.Equal("", process.StandardError.ReadToEnd());
        Assert.Equal(0, process.ExitCode);

        Assert.Equal([new GalleryPerson("other", PerWriter), new GalleryPerson("ours", PerWriter)], g.List());
        Assert.Equal(2 * PerWriter, g.FaceCount);
        foreach (var v in theirs) Assert.Equal("other", g.Identify(v, 1, 0.01f)[0].Person);
    }

    [SkippableFact]
    public void ProcessKilledMidTransaction_LeavesTheFileConsistent()
    {
        var sqlite3 = Sqlite3();
        Skip.If(sqlite3 is null, "the sqlite3 shell is not installed: no second process to kill");
        using var g = FaceGallery.Open(File(), Model, 2);
        g.AddFaces("p", Faces([1, 0]));

        var psi = new ProcessStartInfo(sqlite3!, File()) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        // An add half done: the person and a face inserted, never committed; then the process dies.
        process.StandardInput.WriteLine("BEGIN IMMEDIATE; INSERT INTO people (name) VALUES ('ghost');");
        process.StandardInput.WriteLine($"INSERT INTO faces (person_id, vector, added_at) VALUES (last_insert_rowid(), X'{Hex([0, 1])}', 'now');");
        process.StandardInput.WriteLine("SELECT 'inserted';");
        process.StandardInput.Flush();
        Assert.Equal("inserted", process.StandardOutput.ReadLine());
        process.Kill();
        process.WaitForExit();

        Assert.Equal([new GalleryPerson("p", 1)], g.List());
        Assert.Equal(1, g.FaceCount);
        g.AddFaces("q", Faces([0, 1])); // the dead process's lock is gone
        using var again = FaceGallery.Open(File(), Model, 2);
        Assert.Equal([new GalleryPerson("p", 1), new GalleryPerson("q", 1)], again.List());
    }
}
