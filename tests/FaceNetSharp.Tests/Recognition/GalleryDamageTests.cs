using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;
using Microsoft.Data.Sqlite;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>
/// Gallery files damaged outside the gallery (issue 9): a stored vector with NaN written into the file's bytes (which
/// SQLite's integrity check does not see), vectors of the wrong length or norm, and a truncated file. Real SQLite files
/// in a temp folder, the CLI in-process.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class GalleryDamageTests(InstalledModelsFixture fx)
{
    // The CLI's default model, so that 'gallery list/check' open the file without loading a network.
    private const string Model = "mobilefacenet";
    private const int Dims = 192;

    /// <summary>Alice with two faces, Bob with one (face ids 1, 2, 3); returns Bob's vector as stored.</summary>
    private static float[] MakeGallery(string path)
    {
        var random = new Random(9);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var bob = SyntheticVectors.UnitVector(random, Dims);
        using var gallery = FaceGallery.Open(path, Model, Dims);
        gallery.AddFaces("Alice", [(alice, "a1.jpg"), (SyntheticVectors.Around(random, alice, 0.2), "a2.jpg")]);
        gallery.AddFaces("Bob", [(bob, "b1.jpg")]);
        return VectorAsStored(gallery, bob);
    }

    private static float[] VectorAsStored(FaceGallery gallery, float[] v)
    {
        var blob = gallery.NormalizedBlob(v);
        return MemoryMarshal.Cast<byte, float>(blob).ToArray();
    }

    /// <summary>Finds the stored vector's bytes in the file and writes NaN over its element <paramref name="element"/>.</summary>
    private static void WriteNaNInto(string path, float[] stored, int element)
    {
        var file = File.ReadAllBytes(path);
        var blob = MemoryMarshal.AsBytes(stored.AsSpan()).ToArray();
        int at = file.AsSpan().IndexOf(blob);
        Assert.True(at >= 0, "the vector's bytes are not in the file");
        Assert.Equal(-1, file.AsSpan(at + 1).IndexOf(blob)); // exactly one copy
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at + 4 * element), float.NaN);
        File.WriteAllBytes(path, file);
    }

    private static string SqliteIntegrity(string path)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        return (string)cmd.ExecuteScalar()!;
    }

    [Fact]
    public void A_NaN_written_into_the_file_is_reported_at_open_and_left_out_of_the_search()
    {
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        var bob = MakeGallery(db);
        WriteNaNInto(db, bob, element: 5);
        Assert.Equal("ok", SqliteIntegrity(db)); // SQLite sees nothing wrong

        using var gallery = FaceGallery.Open(db, Model, Dims);
        var damaged = Assert.Single(gallery.DamagedFaces);
        Assert.Equal(new GalleryFaceProblem(3, "Bob", "1 NaN or infinite value(s) in its vector"), damaged);
        Assert.Equal(2, gallery.FaceCount);
        Assert.Equal(damaged, Assert.Single(gallery.CheckFaces()));
        // Bob's own vector finds Alice (his only face is left out), at a distance, not NaN
        var match = Assert.Single(gallery.Identify(bob, top: 5, threshold: 0.5f));
        Assert.Equal("Alice", match.Person);
        Assert.True(float.IsFinite(match.Distance));

        // an append by another instance is read incrementally and the damaged face stays reported
        using (var other = FaceGallery.Open(db, Model, Dims))
            other.AddFaces("Carol", [(SyntheticVectors.UnitVector(new Random(3), Dims), null)]);
        Assert.Equal(3, gallery.FaceCount);
        Assert.Single(gallery.DamagedFaces);

        // export leaves the damaged face out instead of failing on NaN
        var json = tmp.Combine("export.json");
        gallery.Export(json);
        Assert.DoesNotContain("NaN", File.ReadAllText(json));

        var dropped = Assert.Single(gallery.DropDamagedFaces());
        Assert.Equal(3, dropped.FaceId);
        Assert.Empty(gallery.DamagedFaces);
        Assert.Empty(gallery.CheckFaces());
        Assert.Equal(3, gallery.FaceCount);
        Assert.Contains(gallery.List(), p => p.Name == "Bob" && p.FaceCount == 0);
    }

    [Fact]
    public void Check_lists_wrong_lengths_non_unit_vectors_and_faces_without_a_person()
    {
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        MakeGallery(db);
        using (var c = new SqliteConnection($"Data Source={db};Pooling=false"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            var half = new float[Dims];
            half[0] = 0.5f;
            // a face row whose person is gone: only possible with the foreign-key check off, as another tool may have it
            cmd.CommandText = "PRAGMA foreign_keys = OFF; UPDATE faces SET vector = zeroblob(10) WHERE id = 1; UPDATE faces SET vector = $v WHERE id = 2; " +
                "INSERT INTO faces (person_id, vector, added_at) VALUES (99, $u, '2026-01-01')";
            cmd.Parameters.AddWithValue("$v", MemoryMarshal.AsBytes(half.AsSpan()).ToArray());
            var unit = new float[Dims];
            unit[1] = 1;
            cmd.Parameters.AddWithValue("$u", MemoryMarshal.AsBytes(unit.AsSpan()).ToArray());
            cmd.ExecuteNonQuery();
        }

        using var gallery = FaceGallery.Open(db, Model, Dims);
        var problems = gallery.CheckFaces();
        Assert.Equal([1L, 2L, 4L], problems.Select(p => p.FaceId));
        Assert.Equal("a 10-byte vector; a 192-d one has 768", problems[0].Problem);
        Assert.Contains("not unit length (norm 0.5)", problems[1].Problem);
        Assert.Equal("its person is not in the gallery", problems[2].Problem);
        Assert.Equal(2, gallery.DamagedFaces.Count); // the person-less face is not joined into the search at all
        Assert.Equal(3, gallery.DropDamagedFaces().Count);
        Assert.Empty(gallery.CheckFaces());
    }

    [Fact]
    public void The_cli_warns_at_open_and_gallery_check_lists_and_drops_the_face()
    {
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        WriteNaNInto(db, MakeGallery(db), element: 0);

        var list = CliRunner.Run("gallery", "list", "--gallery", db);
        Assert.True(list.ExitCode == 0, list.Console);
        Assert.Contains($"warning: {db}: 1 damaged face(s) left out of the search", list.Console);
        Assert.Contains("face 3 of 'Bob': 1 NaN or infinite value(s) in its vector", list.Console);
        Assert.Contains($"'facenet gallery check --drop --gallery {db}' deletes them", list.Console);

        var check = CliRunner.Run("gallery", "check", "--gallery", db);
        Assert.True(check.ExitCode == 1, check.Console);
        var row = check.Console.Split('\n').Single(l => l.Contains("Bob"));
        Assert.Matches(@"│\s*3\s*│\s*Bob\s*│\s*1 NaN or infinite value\(s\) in its vector\s*│", row);
        Assert.DoesNotContain("warning", check.Console);

        var drop = CliRunner.Run("gallery", "check", "--drop", "--gallery", db);
        Assert.True(drop.ExitCode == 0, drop.Console);
        Assert.Contains($"dropped 1 damaged face(s) from {db}; 2 faces left", drop.Console);

        var again = CliRunner.Run("gallery", "check", "--gallery", db);
        Assert.True(again.ExitCode == 0, again.Console);
        Assert.Contains($"{db}: 2 faces, none damaged", again.Console);
        Assert.DoesNotContain("warning", CliRunner.Run("gallery", "list", "--gallery", db).Console);
    }

    /// <summary>
    /// gallery identify's table answer is stdout; the warning about damaged faces went there too, in the middle of the
    /// answer a script reads. Now it is on stderr (as with --json).
    /// </summary>
    [SkippableFact]
    public void Identify_warns_about_damaged_faces_on_stderr_and_answers_on_stdout()
    {
        var store = fx.Require();
        var photo = TestPaths.Shared("faces", "orl-att-faces", "orl_faces", "s1", "1.pgm");
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        WriteNaNInto(db, MakeGallery(db), element: 0);
        var r = FaceNetSharp.Tests.Cli.CliProcess.Run(["gallery", "identify", photo, "--gallery", db, "--models-dir", store.Directory],
            TimeSpan.FromSeconds(120));
        Assert.True(r.ExitCode == 0, r.Both);
        Assert.Contains($"warning: {db}: 1 damaged face(s) left out of the search", r.Stderr);
        Assert.Contains("face 3 of 'Bob'", r.Stderr);
        Assert.DoesNotContain("damaged", r.Stdout);
        Assert.Contains("1.pgm", r.Stdout);   // the answer itself
    }

    /// <summary>A gallery of 300 faces (several pages), cut to half its length.</summary>
    private static string TruncatedGallery(TempFolder tmp)
    {
        var db = tmp.Combine("gallery.db");
        var random = new Random(1);
        using (var gallery = FaceGallery.Open(db, Model, Dims))
            for (int p = 0; p < 30; p++)
                gallery.AddFaces($"person {p}", Enumerable.Range(0, 10).Select(_ => (SyntheticVectors.UnitVector(random, Dims), (string?)null)));
        var bytes = File.ReadAllBytes(db);
        File.WriteAllBytes(db, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        return db;
    }

    [Fact]
    public void A_truncated_gallery_is_one_line_naming_the_file_and_exit_2()
    {
        using var tmp = new TempFolder();
        var db = TruncatedGallery(tmp);

        var e = Assert.Throws<InvalidDataException>(() => FaceGallery.Open(db, Model, Dims));
        Assert.StartsWith($"{db} is damaged (database disk image is malformed)", e.Message);

        foreach (var sub in new[] { "list", "check", "export" })
        {
            string[] args = sub == "export" ? ["gallery", sub, tmp.Combine("out.json"), "--gallery", db] : ["gallery", sub, "--gallery", db];
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 2, r.Console);
            Assert.Contains($"error: {db} is damaged (database disk image is malformed): restore gallery.db from a backup", r.Console);
            Assert.DoesNotContain("   at ", r.Console);
            Assert.Single(r.Console.Trim().Split('\n')); // one line
        }
    }

    [SkippableFact]
    public void Serve_with_a_truncated_gallery_stops_at_start_with_one_line()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var db = TruncatedGallery(tmp);

        var r = CliRunner.Run("serve", "--gallery", db, "--models-dir", store.Directory, "--urls", "http://127.0.0.1:0");
        Assert.True(r.ExitCode == 2, r.Console);
        Assert.Contains($"error: {db} is damaged (database disk image is malformed)", r.Console);
        Assert.DoesNotContain("   at ", r.Console);
        Assert.DoesNotContain("Listening", r.Console);
    }
}
