using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// The tracker on facenet-pytorch's video.mp4 (1920x1080, 25 fps, 105 frames): a crowd walking towards the camera
/// under an arcade, nobody enrolled. Detected once per run with MTCNN's smallest face at 40 px (the faces that
/// matter are 50-200 px at this size; 40 keeps the detection cost of the whole clip to about a minute or two here).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class CrowdClipTrackingTests(InstalledModelsFixture models, ITestOutputHelper output)
{
    private const double MinFaceSize = 40;

    private ClipFaces Clip() => ClipFaces.Load(TestPaths.Shared("videos", "facenet-pytorch", "video.mp4"), models.Require(), "mobilefacenet", MinFaceSize);

    /// <summary>The track whose box centre is nearest (<paramref name="x"/>, <paramref name="y"/>) in <paramref name="frame"/>, and at most a box width from it.</summary>
    private static int TrackAt(List<IReadOnlyList<TrackedFace>> faces, int frame, float x, float y)
    {
        var p = new System.Numerics.Vector2(x, y);
        var nearest = faces[frame].MinBy(f => (new System.Numerics.Vector2((f.Box.X1 + f.Box.X2) / 2, (f.Box.Y1 + f.Box.Y2) / 2) - p).Length());
        Assert.True(nearest is not null, $"no face in frame {frame}");
        var c = new System.Numerics.Vector2((nearest.Box.X1 + nearest.Box.X2) / 2, (nearest.Box.Y1 + nearest.Box.Y2) / 2);
        Assert.True((c - p).Length() <= nearest.Box.Width, $"no face near ({x}, {y}) in frame {frame}: the nearest, track {nearest.Track}, is at ({c.X:F0}, {c.Y:F0})");
        return nearest.Track;
    }

    /// <summary>
    /// The four people who walk towards the camera keep one track each across the frames they are visible (points
    /// read off the frames: the girl with the scarf crosses from left to right and leaves at frame 35; the boy in the
    /// blue hoodie is in view throughout), detecting every frame or every third.
    /// </summary>
    [SkippableTheory]
    [InlineData(1)]
    [InlineData(3)]
    public void The_people_walking_towards_the_camera_keep_one_track_each(int detectEvery)
    {
        var clip = Clip();
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(FaceNetSharp.Embedding.Embedders.MobileFaceNet), null, detectEvery);
        var summary = tracker.Summarize();
        output.WriteLine(ClipFaces.Describe(summary, tracker));
        var people = new (string who, int x0, int y0, int frame, int x1, int y1)[]
        {
            ("blue hoodie boy", 940, 665, 100, 784, 715),
            ("red-haired boy", 709, 595, 75, 540, 665),
            ("white-haired woman", 311, 648, 75, 221, 696),
            ("girl with the scarf", 367, 757, 25, 1261, 820), // at frame 1; she walks 37 px a frame
        };
        var ids = new List<int>();
        foreach (var (who, x0, y0, frame, x1, y1) in people)
        {
            // from the second detection run, when tracks are first reported (detecting every 3rd frame the girl moves
            // more than her box width between runs: her track is confirmed by embedding, FastMoverTrackingTests)
            int start = detectEvery == 1 ? 2 : 6;
            float x = who.StartsWith("girl", StringComparison.Ordinal) ? x0 + 37 * (start - 1) : x0;
            int first = TrackAt(faces, start, x, y0), last = TrackAt(faces, frame, x1, y1);
            Assert.True(first == last, $"{who}: track {first} at frame {start}, {last} at frame {frame}");
            ids.Add(first);
        }
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    /// <summary>The measurement behind the defaults (read its output): tracks and lengths per association and detection interval.</summary>
    [SkippableFact]
    public void Measure_variants()
    {
        var clip = Clip();
        var model = FaceNetSharp.Embedding.Embedders.MobileFaceNet;
        output.WriteLine($"{clip.Frames.Count} frames, {clip.Frames.Sum(f => f.Count)} detections (max {clip.Frames.Max(f => f.Count)} in a frame); detect+embed every frame took {clip.DetectionTime.TotalSeconds:F1} s");
        foreach (var association in new[] { TrackAssociation.Hungarian, TrackAssociation.Greedy })
        foreach (int k in new[] { 1, 3, 5 })
        foreach (bool embeddings in new[] { true, false })
        {
            var options = embeddings ? FaceTrackerOptions.For(model) with { Association = association } : new FaceTrackerOptions { Association = association };
            var (tracker, _) = clip.Track(options, null, k, embeddings);
            var summary = tracker.Summarize();
            output.WriteLine($"{association}, detect every {k}, {(embeddings ? "embeddings" : "no embeddings")}: {summary.Tracks.Count} tracks, {summary.Strangers.Count} stranger groups; frames seen {string.Join(" ", summary.Tracks.Select(t => t.FramesSeen))}");
            if (association == TrackAssociation.Hungarian && embeddings) output.WriteLine(ClipFaces.Describe(summary, tracker));
        }
        foreach (int k in new[] { 1, 3 })
        foreach (int confirm in new[] { 1, 2, 3 })
        foreach (int coast in new[] { 5, 15, 30 })
        {
            var (tracker, _) = clip.Track(FaceTrackerOptions.For(model) with { ConfirmHits = confirm, MaxCoastFrames = coast }, null, k);
            output.WriteLine($"detect every {k}, confirm after {confirm}, coast {coast} frames: {tracker.Tracks.Count} tracks; frames seen {string.Join(" ", tracker.Tracks.Select(t => t.FramesSeen))}");
        }
    }
}
