using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaceNetSharp.Video;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary>
/// <see cref="SceneCutDetector"/> on the two real clips, every frame's value printed (the measurement behind
/// <see cref="SceneCutDetector.DefaultThreshold"/>): the Hamilton clip's three cuts, and none in the crowd clip.
/// </summary>
public sealed class SceneCutDetectorTests(ITestOutputHelper output)
{
    /// <summary>Each frame's distance to the previous one, and the frames found to be cuts.</summary>
    private (List<double> Distances, List<int> Cuts) Measure(string path)
    {
        using var reader = VideoReader.Open(path);
        var detector = new SceneCutDetector(reader.Width, reader.Height);
        var frame = new byte[reader.FrameBytes];
        var distances = new List<double>();
        var cuts = new List<int>();
        long ticks = 0;
        while (reader.Read(frame))
        {
            long t0 = Stopwatch.GetTimestamp();
            if (detector.Next(frame)) cuts.Add(distances.Count);
            ticks += Stopwatch.GetTimestamp() - t0;
            distances.Add(detector.LastDistance);
        }
        Assert.Null(reader.Error);
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"{path}: {reader.Width}x{reader.Height}, {distances.Count} frames, {Stopwatch.GetElapsedTime(0, ticks).TotalMilliseconds / distances.Count:F2} ms a frame; cuts at {string.Join(", ", cuts)}");
        for (int i = 0; i < distances.Count; i++)
            s.Append(CultureInfo.InvariantCulture, $"{i}:{distances[i]:F3}{(cuts.Contains(i) ? " CUT" : "")}{(i % 10 == 9 ? "\n" : "  ")}");
        output.WriteLine(s.ToString());
        var within = distances.Select((d, i) => (d, i)).Where(p => !cuts.Contains(p.i)).MaxBy(p => p.d);
        output.WriteLine($"largest within a shot: {within.d:F3} (frame {within.i}); smallest at a cut: {(cuts.Count > 0 ? cuts.Min(c => distances[c]).ToString("F3", CultureInfo.InvariantCulture) : "-")}; threshold {SceneCutDetector.DefaultThreshold}");
        return (distances, cuts);
    }

    /// <summary>
    /// The cuts of short_hamilton_clip.mp4 (read off its frames: the wide shot to Alex Lacamoire's profile at 20, to
    /// Lin-Manuel Miranda's close-up at 82, to the audience at 211) and nothing else; every other frame is below half
    /// the threshold, every cut above one and a half times it.
    /// </summary>
    [SkippableFact]
    public void Hamilton_clip_cuts_are_found_and_nothing_else()
    {
        var (distances, cuts) = Measure(VideoClips.Hamilton());
        Assert.Equal(275, distances.Count);
        Assert.Equal([20, 82, 211], cuts);
        Assert.All(cuts, c => Assert.True(distances[c] >= 1.5 * SceneCutDetector.DefaultThreshold, $"cut at {c}: {distances[c]}"));
        Assert.All(distances.Where((_, i) => !cuts.Contains(i)), d => Assert.True(d < 0.6 * SceneCutDetector.DefaultThreshold, $"{d}"));
    }

    /// <summary>facenet-pytorch's video.mp4 is one shot (a crowd walking towards the camera): no cut, no frame near the threshold.</summary>
    [SkippableFact]
    public void Crowd_clip_has_no_cut()
    {
        var (distances, cuts) = Measure(VideoClips.Crowd());
        Assert.Equal(105, distances.Count);
        Assert.Empty(cuts);
        Assert.All(distances, d => Assert.True(d < 0.6 * SceneCutDetector.DefaultThreshold, $"{d}"));
    }

    [Fact]
    public void The_same_frame_again_is_no_cut_and_another_picture_is()
    {
        var detector = new SceneCutDetector(64, 36);
        var grey = Enumerable.Repeat((byte)128, 64 * 36 * 3).ToArray();
        var red = new byte[64 * 36 * 3];
        for (int i = 0; i < red.Length; i += 3) red[i] = 220;
        Assert.False(detector.Next(grey)); // the first frame
        Assert.False(detector.Next(grey));
        Assert.Equal(0, detector.LastDistance);
        Assert.True(detector.Next(red));
        Assert.Equal(1, detector.LastDistance, 6);
        Assert.Throws<ArgumentException>(() => detector.Next(new byte[10]));
    }
}
