using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// A face that moves more than its box width between detection runs: the girl with the scarf in facenet-pytorch's
/// video.mp4 (1920x1080, 25 fps) crosses the frame left to right at about 38 px a frame with a 94 px wide box, in
/// view from frame 0 to 34. Detecting every 3rd frame she moves 115 px between runs, so her new track's box (not yet
/// moving: one detection gives no velocity) never overlaps her next detection.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class FastMoverTrackingTests(InstalledModelsFixture models, ITestOutputHelper output)
{
    private ClipFaces Clip() => ClipFaces.Load(TestPaths.Shared("videos", "facenet-pytorch", "video.mp4"), models.Require(), "mobilefacenet", 40);

    /// <summary>
    /// Her detections frame by frame: the detection nearest where she should be (the last one moved 38 px right), at
    /// most 150 px across and 100 px up or down from the last; from her box at frame 0 (284,721)-(377,834).
    /// </summary>
    private static Dictionary<int, FaceNetSharp.Detection.FaceBox> Girl(ClipFaces clip)
    {
        var boxes = new Dictionary<int, FaceNetSharp.Detection.FaceBox>();
        float x = 331 - 38, y = 778;
        for (int f = 0; f <= 34; f++)
        {
            float ex = x + 38;
            var near = clip.Frames[f].Select(d => d.Face.Box)
                .Where(b => Math.Abs((b.X1 + b.X2) / 2 - x) <= 150 && Math.Abs((b.Y1 + b.Y2) / 2 - y) <= 100)
                .OrderBy(b => Math.Abs((b.X1 + b.X2) / 2 - ex) + Math.Abs((b.Y1 + b.Y2) / 2 - y)).ToList();
            Assert.True(near.Count > 0, $"the girl is not detected in frame {f} near ({ex:F0}, {y:F0})");
            boxes[f] = near[0];
            (x, y) = ((near[0].X1 + near[0].X2) / 2, (near[0].Y1 + near[0].Y2) / 2);
        }
        return boxes;
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void The_girl_with_the_scarf_is_one_track_from_her_second_detection_until_she_leaves(int detectEvery)
    {
        var clip = Clip();
        var girl = Girl(clip);
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(FaceNetSharp.Embedding.Embedders.MobileFaceNet), null, detectEvery);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        var ids = new List<(int frame, int? track)>();
        for (int f = detectEvery; f <= 34; f += detectEvery)
        {
            var hers = faces[f].Where(t => FaceTracker.Iou(t.Box, girl[f]) >= 0.5f).Select(t => (int?)t.Track).FirstOrDefault();
            ids.Add((f, hers));
        }
        output.WriteLine(string.Join(" ", ids.Select(i => $"f{i.frame}:#{i.track?.ToString() ?? "-"}")));
        Assert.True(ids.All(i => i.track is not null), $"frames where she has no track: {string.Join(", ", ids.Where(i => i.track is null).Select(i => i.frame))}");
        Assert.Single(ids.Select(i => i.track).Distinct());
    }
}
