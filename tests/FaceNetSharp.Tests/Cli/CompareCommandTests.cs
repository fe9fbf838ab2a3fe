using System.Text.Json;
using FaceNetSharp.Cli;
using FaceNetSharp.Tests.Models;
using Spectre.Console.Testing;

namespace FaceNetSharp.Tests.Cli;

/// <summary>Runs <c>facenet</c> in-process for the verification commands' tests.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class CompareCommandTests(InstalledModelsFixture models)
{
    private static string Hopkins(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");

    private static string Biden() => TestPaths.Shared("faces", "face_recognition-examples", "examples", "biden.jpg");

    private static (string Model, float Threshold, string[] Files, float[][] Distances) Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        return (r.GetProperty("model").GetString()!, r.GetProperty("threshold").GetSingle(),
            r.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray(),
            r.GetProperty("distances").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray());
    }

    [SkippableTheory]
    [InlineData("mobilefacenet", "mobilefacenet")]
    [InlineData("dlib", "dlib-resnet")]
    public void Hopkins_twice_is_the_same_person_and_Biden_is_not(string model, string name)
    {
        var store = models.Require();
        var r = CliRunner.Run("compare", "--models-dir", store.Directory, "--model", model, "--format", "json", Hopkins(1), Hopkins(2), Biden());
        Assert.True(r.ExitCode == 0, r.Console);
        var (modelName, threshold, files, d) = Json(r.Out);
        Assert.Equal(name, modelName);
        Assert.Equal(3, files.Length);
        Assert.Equal(3, d.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0f, d[i][i], 1e-5f);
            for (int j = 0; j < 3; j++) Assert.Equal(d[i][j], d[j][i]);
        }
        // Measured: mobilefacenet cosine distance Hopkins 1-2 0.159, Hopkins-Biden 0.90 / 0.79;
        // dlib euclidean 0.265, and 0.52 / 0.51. The golden chips' MobileFaceNet cosine is 0.833 (distance 0.167).
        Assert.True(d[0][1] < threshold, $"Hopkins 1 vs 2: {d[0][1]} (threshold {threshold})");
        Assert.True(d[0][2] > threshold && d[1][2] > threshold, $"Hopkins vs Biden: {d[0][2]}, {d[1][2]} (threshold {threshold})");
    }

    [SkippableFact]
    public void Mobilefacenet_distance_of_the_Hopkins_photos_is_near_the_golden_chips()
    {
        var store = models.Require();
        var r = CliRunner.Run("compare", "--models-dir", store.Directory, "--format", "json", Hopkins(1), Hopkins(2));
        var d = Json(r.Out).Distances[0][1];
        // MODELS.md golden data: cosine similarity 0.833 of the reference's chips (distance 0.167); our MTCNN resizes
        // with INTER_AREA rather than the reference's box filter, so landmarks (and chips) differ by under a pixel.
        Assert.InRange(d, 0.167f - 0.03f, 0.167f + 0.03f);
    }

    [SkippableFact]
    public void Table_gives_a_verdict_per_pair()
    {
        var store = models.Require();
        var r = CliRunner.Run("compare", "--models-dir", store.Directory, Hopkins(1), Hopkins(2), Biden());
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("0 vs 1:", r.Console);
        Assert.Contains("same person", r.Console);
        Assert.Contains("0 vs 2:", r.Console);
        Assert.Contains("different people", r.Console);
        Assert.Equal("", r.Out);
    }

    [SkippableFact]
    public void A_photo_without_a_face_and_a_bad_file_are_named_and_left_out_with_exit_code_1()
    {
        var store = models.Require();
        // an image without a face (uniform grey, as the detector's own no-face test) and a text file named .jpg
        var dir = Directory.CreateTempSubdirectory("facenet-compare-").FullName;
        try
        {
            var blank = Path.Combine(dir, "blank.png");
            ImageWriterForTests.SaveGrey(blank, 200, 160, 128);
            var bad = Path.Combine(dir, "notes.jpg");
            File.WriteAllText(bad, "not an image");
            var r = CliRunner.Run("compare", "--models-dir", store.Directory, "--format", "csv", Hopkins(1), blank, bad, Hopkins(2));
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"no face found in {blank}", r.Console);
            Assert.Contains("notes.jpg", r.Console);
            var lines = r.Out.Trim().Split('\n');
            Assert.Equal(5, lines.Length); // header, the two Hopkins rows, then the two left out with their error
            Assert.EndsWith(",error", lines[0]);
            Assert.DoesNotContain("blank.png", lines[0]);
            Assert.Equal($"{blank},,,no face found", lines[3]);
            Assert.StartsWith($"{bad},,,", lines[4]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [SkippableFact]
    public void Several_faces_use_the_largest_and_say_so()
    {
        var store = models.Require();
        var group = TestPaths.Shared("faces", "face_recognition-examples", "examples", "two_people.jpg");
        var r = CliRunner.Run("compare", "--models-dir", store.Directory, "--format", "json", group, Biden());
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("2 faces, using the largest", r.Console);
        // two_people.jpg shows Biden (the larger face) with Obama.
        var (_, threshold, _, d) = Json(r.Out);
        Assert.True(d[0][1] < threshold, $"{d[0][1]}");
    }
}

/// <summary>Writes small synthetic images for tests (a uniform grey PNG through the product's writer).</summary>
internal static class ImageWriterForTests
{
    public static void SaveGrey(string path, int width, int height, byte value)
    {
        var pixels = new byte[width * height * 3];
        Array.Fill(pixels, value);
        FaceNetSharp.Imaging.ImageWriter.Save(new FaceNetSharp.Imaging.RgbImage(width, height, pixels), path);
    }
}
