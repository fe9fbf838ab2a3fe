using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// A background face of facenet-pytorch's video.mp4 (1920x1080; about 45 px, right of centre, in view throughout)
/// when the detector runs every 5th frame: one odd detection of it (frame 90, 0.69 from its last face) is rightly
/// refused and starts a tentative track there; the next detection (frame 95) is the face again, but overlapped only that
/// tentative track while the face's own predicted box had drifted at its velocity (IoU 0.12), and the person went on as
/// a second track (frames 90-100). Detected at 40 px, as the command does at 1080p.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class CrowdClipSplitTests(InstalledModelsFixture models, ITestOutputHelper output)
{
    /// <summary>The track with a detected box whose centre is within half a box width of (<paramref name="x"/>, <paramref name="y"/>) in <paramref name="frame"/>.</summary>
    private static int TrackAt(List<IReadOnlyList<TrackedFace>> faces, int frame, float x, float y)
    {
        var near = faces[frame].Where(f => f.Detected && Math.Abs((f.Box.X1 + f.Box.X2) / 2 - x) <= f.Box.Width / 2 && Math.Abs((f.Box.Y1 + f.Box.Y2) / 2 - y) <= f.Box.Height / 2).ToList();
        Assert.True(near.Count == 1, $"{near.Count} tracked faces near ({x}, {y}) in frame {frame}: {string.Join(", ", faces[frame].Select(f => $"#{f.Track} ({(f.Box.X1 + f.Box.X2) / 2:F0}, {(f.Box.Y1 + f.Box.Y2) / 2:F0})"))}");
        return near[0].Track;
    }

    /// <remarks>Every 5th frame only: detecting every frame or every 3rd, this face is two tracks for another reason (hidden
    /// from frame 28 to 45 behind a passer-by, and not re-identified after; the two are one group of strangers).</remarks>
    [SkippableFact]
    public void A_face_missed_once_keeps_its_track_when_a_tentative_one_took_its_place()
    {
        const int detectEvery = 5;
        var clip = ClipFaces.Load(TestPaths.Shared("videos", "facenet-pytorch", "video.mp4"), models.Require(), "mobilefacenet", 40);
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(FaceNetSharp.Embedding.Embedders.MobileFaceNet), null, detectEvery);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        // its box centre, read off the detections: (1124, 662) at frame 15, (1138, 696) at frame 100
        int early = TrackAt(faces, 15, 1124, 662), late = TrackAt(faces, 100, 1138, 696);
        Assert.True(early == late, $"the face is track {early} at frame 15 and track {late} at the end");
    }

    /// <summary>
    /// Detecting every 5th frame, a face in view at first (about 38 px, left of the boy in the blue hoodie), hidden from
    /// frame 26 and back at 95: its first detection back is 0.68 from its track's mean (beyond the threshold, 0.59:
    /// a tentative track starts there), its second 0.36, but that one overlapped the tentative track and the person went
    /// on as a second, short track (95-100). Detecting every 3rd frame it was one track already.
    /// </summary>
    [SkippableFact]
    public void A_face_back_after_a_while_keeps_its_track_when_its_first_detection_back_started_a_tentative_one()
    {
        const int detectEvery = 5;
        var clip = ClipFaces.Load(TestPaths.Shared("videos", "facenet-pytorch", "video.mp4"), models.Require(), "mobilefacenet", 40);
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(FaceNetSharp.Embedding.Embedders.MobileFaceNet), null, detectEvery);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        // its box centre, read off the detections: (945, 700) at frame 25, (935, 705) at frame 100
        int early = TrackAt(faces, 25, 945, 700), late = TrackAt(faces, 100, 935, 705);
        Assert.True(early == late, $"the face is track {early} at frame 25 and track {late} at the end");
    }
}
