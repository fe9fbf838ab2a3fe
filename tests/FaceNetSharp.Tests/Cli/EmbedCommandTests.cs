using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaceNetSharp.Embedding;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Cli;

[Collection(InstalledModelsCollection.Name)]
public sealed class EmbedCommandTests(InstalledModelsFixture models) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("facenet-embed-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>IN/Anthony_Hopkins/{1,2}.jpg, IN/Joe_Biden/biden.jpg, IN/Joe_Biden/broken.jpg (text).</summary>
    private string Input()
    {
        var input = Path.Combine(_dir, "in");
        Directory.CreateDirectory(Path.Combine(input, "Anthony_Hopkins"));
        Directory.CreateDirectory(Path.Combine(input, "Joe_Biden"));
        foreach (var n in new[] { 1, 2 })
            File.Copy(TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg"),
                Path.Combine(input, "Anthony_Hopkins", $"Anthony_Hopkins_000{n}.jpg"));
        File.Copy(TestPaths.Shared("faces", "face_recognition-examples", "examples", "biden.jpg"), Path.Combine(input, "Joe_Biden", "biden.jpg"));
        File.WriteAllText(Path.Combine(input, "Joe_Biden", "broken.jpg"), "not a jpeg");
        return input;
    }

    [SkippableFact]
    public void Npy_has_a_valid_header_the_right_size_and_labels_beside_it()
    {
        var store = models.Require();
        var input = Input();
        var npy = Path.Combine(_dir, "out", "vectors.npy");
        var r = CliRunner.Run("embed", input, "--out", npy, "--models-dir", store.Directory);
        Assert.Equal(1, r.ExitCode); // the broken file
        Assert.Contains("broken.jpg", r.Console);

        var bytes = File.ReadAllBytes(npy);
        Assert.Equal(0x93, bytes[0]);
        Assert.Equal("NUMPY", Encoding.ASCII.GetString(bytes, 1, 5));
        Assert.Equal(1, bytes[6]);
        Assert.Equal(0, bytes[7]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64); // the format's alignment of the data
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 192), }", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 3 * 192 * 4, bytes.Length);

        var (rows, cols, data) = EmbeddingFile.ReadNpy(npy);
        Assert.Equal((3, 192), (rows, cols));
        for (int i = 0; i < rows; i++)
        {
            double norm = Math.Sqrt(data.Skip(i * cols).Take(cols).Sum(v => (double)v * v));
            Assert.Equal(1.0, norm, 1e-4);
        }
        var labels = File.ReadAllLines(Path.Combine(_dir, "out", "vectors.labels.txt"));
        Assert.Equal(
            ["Anthony_Hopkins\tAnthony_Hopkins/Anthony_Hopkins_0001.jpg", "Anthony_Hopkins\tAnthony_Hopkins/Anthony_Hopkins_0002.jpg", "Joe_Biden\tJoe_Biden/biden.jpg"],
            labels);
        // same person closer than different people (cosine of unit vectors)
        float Dot(int a, int b) => Enumerable.Range(0, cols).Sum(k => data[a * cols + k] * data[b * cols + k]);
        Assert.True(Dot(0, 1) > Dot(0, 2) && Dot(0, 1) > Dot(1, 2));
    }

    [SkippableFact]
    public void Csv_and_jsonl_hold_the_same_vectors_and_a_rerun_replaces_the_file()
    {
        var store = models.Require();
        var input = Input();
        var csv = Path.Combine(_dir, "v.csv");
        var jsonl = Path.Combine(_dir, "v.jsonl");
        Assert.Equal(1, CliRunner.Run("embed", input, "--out", csv, "--models-dir", store.Directory).ExitCode);
        Assert.Equal(1, CliRunner.Run("embed", input, "-o", jsonl, "--model", "dlib", "--models-dir", store.Directory).ExitCode);

        var lines = File.ReadAllLines(csv);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("file,label,e0,e1,", lines[0]);
        Assert.Equal(2 + 192, lines[0].Split(',').Length);
        var first = lines[1].Split(',');
        Assert.Equal("Anthony_Hopkins/Anthony_Hopkins_0001.jpg", first[0]);
        Assert.Equal("Anthony_Hopkins", first[1]);
        Assert.Equal(1.0, Math.Sqrt(first.Skip(2).Sum(v => Math.Pow(double.Parse(v, CultureInfo.InvariantCulture), 2))), 1e-4);

        var objects = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, objects.Count);
        Assert.Equal("Joe_Biden", objects[2].GetProperty("label").GetString());
        Assert.Equal(128, objects[0].GetProperty("embedding").GetArrayLength());

        // a second run over one more photo replaces the file whole
        File.Copy(Path.Combine(input, "Joe_Biden", "biden.jpg"), Path.Combine(input, "Joe_Biden", "biden2.jpg"));
        Assert.Equal(1, CliRunner.Run("embed", input, "--out", csv, "--models-dir", store.Directory).ExitCode);
        Assert.Equal(5, File.ReadAllLines(csv).Length);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [SkippableFact]
    public void Aligned_chips_of_the_wrong_size_say_how_to_make_them()
    {
        var store = models.Require();
        var input = Input();
        File.Delete(Path.Combine(input, "Joe_Biden", "broken.jpg"));
        var r = CliRunner.Run("embed", input, "--aligned", "--out", Path.Combine(_dir, "x.npy"), "--models-dir", store.Directory);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("takes 112x112 chips", r.Console);
        Assert.Contains("--mode similarity", r.Console);
    }

    [SkippableFact]
    public void An_unknown_output_extension_is_refused_before_any_work()
    {
        var store = models.Require();
        var r = CliRunner.Run("embed", _dir, "--out", Path.Combine(_dir, "x.txt"), "--models-dir", store.Directory);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("use .npy", r.Console);
    }
}
