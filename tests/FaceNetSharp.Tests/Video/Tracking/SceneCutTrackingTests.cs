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
}
