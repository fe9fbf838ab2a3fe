using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// The tracker at the scene cuts of short_hamilton_clip.mp4 (frames 20, 82 and 211: the wide shot, Alex Lacamoire's
/// profile close-up, Lin-Manuel Miranda's close-up, the audience). Nobody before the cut at 211 is in the audience
/// after it, so no track may hold faces on both sides of it.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class SceneCutTrackingTests(InstalledModelsFixture models, ITestOutputHelper output)
{
    private const int AudienceCut = 211;

    /// <summary>
    /// With dlib, Alex Lacamoire's profile track (last seen at frame 81, the cut to Lin's close-up) was re-identified on
    /// Barack Obama's face in the audience at frame 213 (detecting every 3rd frame; at 240 every frame), across the cut
    /// at 211: one track of two people. A track that is not in view at a cut is now ended there. (Detecting every frame,
    /// that track also takes false detections in Lin-Manuel Miranda's close-up after the cut at 82, where it was in
    /// view: before the cuts were known too; they are within dlib's threshold of its profile faces.)
    /// </summary>
    [SkippableTheory]
    [InlineData(1)]
    [InlineData(3)]
    public void With_dlib_no_track_holds_faces_from_both_sides_of_the_cut_to_the_audience(int detectEvery)
    {
        var store = models.Require();
        var clip = ClipFaces.Load(TestPaths.Shared("faces", "face_recognition-examples", "examples", "short_hamilton_clip.mp4"), store, "dlib");
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(FaceNetSharp.Embedding.Embedders.DlibResNet), null, detectEvery);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        var before = faces.Take(AudienceCut).SelectMany(f => f).Where(f => f.Detected).Select(f => f.Track).ToHashSet();
        var after = faces.Skip(AudienceCut).SelectMany(f => f).Where(f => f.Detected).Select(f => f.Track).ToHashSet();
        Assert.True(!before.Overlaps(after), $"track(s) {string.Join(", ", before.Intersect(after))} hold faces before and after the cut at {AudienceCut}");
    }

    /// <summary>
    /// Alex Lacamoire's profile close-up (frames 21-81) is in view at the cut to Lin-Manuel Miranda's close-up (82), so
    /// it may be taken up by a face in the next shot; nobody in that shot is Alex. With MobileFaceNet it took a false
    /// detection on Lin's hair at frame 90 (25 px, score 0.87; 0.582 from its mean, 0.570 from its last face, threshold
    /// 0.59), detecting every frame one on Lin's fingers at 170 (score 0.74; 0.31 and 0.35), with dlib that one too. A
    /// track without evidence of its appearance (no sure, frontal faces: the profile's vectors are of cheek and hair)
    /// is now taken up across a cut only by a face the detector is sure of.
    /// </summary>
    [SkippableTheory]
    [InlineData("mobilefacenet", 1)]
    [InlineData("mobilefacenet", 3)]
    [InlineData("dlib", 1)]
    [InlineData("dlib", 3)]
    public void The_profile_track_in_view_at_the_cut_takes_nothing_in_the_next_shot(string model, int detectEvery)
    {
        var store = models.Require();
        var clip = ClipFaces.Load(TestPaths.Shared("faces", "face_recognition-examples", "examples", "short_hamilton_clip.mp4"), store, model);
        var info = model == "dlib" ? FaceNetSharp.Embedding.Embedders.DlibResNet : FaceNetSharp.Embedding.Embedders.MobileFaceNet;
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(info), null, detectEvery);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        // the profile is last detected at frame 81 with either model and detection interval
        int profile = faces[81].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track;
        var later = faces.Select((f, i) => (Frame: i, Faces: f)).Where(x => x.Frame >= 82 && x.Faces.Any(f => f.Detected && f.Track == profile)).Select(x => x.Frame).ToList();
        Assert.True(later.Count == 0, $"Alex's profile track {profile} holds detections in Lin's close-up, frames {string.Join(", ", later)}");
        // Lin's close-up is still one track
        int lin = faces[99].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track;
        Assert.Equal(lin, faces[201].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track);
    }

    /// <summary>
    /// A false cut (a flash, or a cut found where there is none) must not end the tracks in view: they are taken up by
    /// their faces in the "new shot". Lin-Manuel Miranda's close-up with false cuts at frames 120, 150 and 180 is one
    /// track; so is each of three people walking towards the camera in the crowd clip (the fourth leaves at frame 35) with
    /// one at frame 30 (FalseCutMeasurements tries every frame: some do split tracks, there as before).
    /// </summary>
    [SkippableTheory]
    [InlineData("mobilefacenet", 1)]
    [InlineData("mobilefacenet", 3)]
    [InlineData("dlib", 1)]
    [InlineData("dlib", 3)]
    public void A_false_cut_does_not_end_the_tracks_in_view(string model, int detectEvery)
    {
        var store = models.Require();
        var info = model == "dlib" ? FaceNetSharp.Embedding.Embedders.DlibResNet : FaceNetSharp.Embedding.Embedders.MobileFaceNet;
        var hamilton = ClipFaces.Load(TestPaths.Shared("faces", "face_recognition-examples", "examples", "short_hamilton_clip.mp4"), store, model);
        var (tracker, faces) = hamilton.Track(FaceTrackerOptions.For(info), null, detectEvery, falseCuts: [120, 150, 180]);
        output.WriteLine(ClipFaces.Describe(tracker.Summarize(), tracker));
        int lin = faces[99].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track;
        foreach (int frame in new[] { 123, 153, 183, 201 })
            Assert.True(lin == faces[frame].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track, $"Lin's close-up is track {lin} at frame 99 and another at {frame}");

        var crowd = ClipFaces.Load(TestPaths.Shared("videos", "facenet-pytorch", "video.mp4"), store, model, 40);
        var (crowdTracker, crowdFaces) = crowd.Track(FaceTrackerOptions.For(info), null, detectEvery, falseCuts: [30]);
        output.WriteLine(ClipFaces.Describe(crowdTracker.Summarize(), crowdTracker));
        // points read off the frames, as CrowdClipTrackingTests (the girl with the scarf leaves at frame 35)
        var people = new (string Who, int X0, int Y0, int Frame, int X1, int Y1)[]
        {
            ("blue hoodie boy", 940, 665, 100, 784, 715),
            ("red-haired boy", 709, 595, 75, 540, 665),
            ("white-haired woman", 311, 648, 75, 221, 696),
        };
        int start = detectEvery == 1 ? 2 : 6;
        foreach (var (who, x0, y0, frame, x1, y1) in people)
        {
            int first = Nearest(crowdFaces, start, x0, y0), last = Nearest(crowdFaces, frame, x1, y1);
            Assert.True(first == last, $"{who}: track {first} at frame {start}, {last} at frame {frame}");
        }
    }

    /// <summary>The track whose box centre (detected or predicted) is nearest (<paramref name="x"/>, <paramref name="y"/>) in <paramref name="frame"/>, at most a box width from it.</summary>
    private static int Nearest(List<IReadOnlyList<TrackedFace>> faces, int frame, float x, float y)
    {
        var p = new System.Numerics.Vector2(x, y);
        var nearest = faces[frame].MinBy(f => (FaceTrack.Center(f.Box) - p).Length());
        Assert.True(nearest is not null && (FaceTrack.Center(nearest.Box) - p).Length() <= nearest.Box.Width, $"no face near ({x}, {y}) in frame {frame}");
        return nearest!.Track;
    }
}
