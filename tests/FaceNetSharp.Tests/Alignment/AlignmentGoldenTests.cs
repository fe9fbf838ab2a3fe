using System.Numerics;
using System.Text.Json;
using FaceNetSharp.Alignment;
using FaceNetSharp.Imaging;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Alignment;

/// <summary>
/// Parity with the golden chips of ../shared/data/golden (an independent numpy reference): warping the two LFW photos
/// with the reference landmarks must reproduce the chips within a mean absolute difference of 2 grey levels.
/// </summary>
public sealed class AlignmentGoldenTests(ITestOutputHelper output)
{
    private const double MaxMeanAbsDiff = 2.0; // tolerance set by the task: bilinear rounding and float order differ

    [SkippableTheory]
    [InlineData("Anthony_Hopkins_0001", AlignmentTemplate.ArcFace112, "arcface112")]
    [InlineData("Anthony_Hopkins_0002", AlignmentTemplate.ArcFace112, "arcface112")]
    [InlineData("Anthony_Hopkins_0001", AlignmentTemplate.Dlib150, "dlib150")]
    [InlineData("Anthony_Hopkins_0002", AlignmentTemplate.Dlib150, "dlib150")]
    public void WarpReproducesGoldenChip(string photo, AlignmentTemplate template, string suffix)
    {
        var image = ImageLoader.Load(TestPaths.Shared("faces", "facenet-sandberg", "data", "images", photo + ".jpg"));
        var golden = ImageLoader.Load(TestPaths.Shared("golden", $"{photo}_{suffix}.png"));
        var landmarks = ReadLandmarks(TestPaths.Shared("golden", "pipeline_hopkins.json"), photo);

        var chip = new FaceAligner(new FaceAlignerOptions { Template = template }).Warp(image, landmarks);

        Assert.Equal(golden.Width, chip.Width);
        Assert.Equal(golden.Height, chip.Height);
        double mad = MeanAbsDiff(chip, golden);
        output.WriteLine($"{photo} {suffix}: mean abs difference {mad:F4} grey levels, max {MaxAbsDiff(chip, golden)}");
        Assert.True(mad < MaxMeanAbsDiff, $"mean abs difference {mad:F3} >= {MaxMeanAbsDiff}");
    }

    internal static Vector2[] ReadLandmarks(string jsonPath, string photo)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(jsonPath));
        // "points_x1to5_y1to5": one row per face, first the five x then the five y.
        var row = doc.RootElement.GetProperty(photo).GetProperty("points_x1to5_y1to5")[0];
        var v = row.EnumerateArray().Select(e => e.GetSingle()).ToArray();
        return [.. Enumerable.Range(0, 5).Select(i => new Vector2(v[i], v[i + 5]))];
    }

    internal static double MeanAbsDiff(RgbImage a, RgbImage b)
    {
        long sum = 0;
        for (int i = 0; i < a.Pixels.Length; i++) sum += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        return (double)sum / a.Pixels.Length;
    }

    private static int MaxAbsDiff(RgbImage a, RgbImage b)
    {
        int max = 0;
        for (int i = 0; i < a.Pixels.Length; i++) max = Math.Max(max, Math.Abs(a.Pixels[i] - b.Pixels[i]));
        return max;
    }
}
