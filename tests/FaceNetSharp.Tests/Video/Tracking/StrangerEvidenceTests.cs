using FaceNetSharp.Embedding;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// The evidence an unknown track needs before it may join a group of strangers (<see cref="StrangerGrouping"/>): a
/// few detections the detector is sure of, not in profile. On the real clips, with nobody enrolled: a profile shot and
/// tracks of a few doubtful detections are no longer grouped with anyone, while one person's two tracks still are.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class StrangerEvidenceTests(InstalledModelsFixture models, ITestOutputHelper output)
{
    private const int AudienceCut = 211;

    /// <summary>
    /// short_hamilton_clip.mp4, nobody enrolled: Lin-Manuel Miranda's wide shot (frames 0-18) and close-up (84-210)
    /// are two tracks (Alex Lacamoire's profile shot between them ends the first) and must be one stranger; nobody
    /// before the cut to the audience (211) is in the audience after it, so no stranger may hold tracks from both
    /// sides. With dlib, Alex's profile track (frames 21-81, no detection both sure and not in profile) was one
    /// stranger with an audience track of 2-3 detections scored 0.78-0.85 (means 0.25-0.29 apart, threshold 0.327),
    /// as the README's first example printed ("3, 10").
    /// </summary>
    [SkippableTheory]
    [InlineData("dlib", 1)]
    [InlineData("dlib", 3)]
    [InlineData("mobilefacenet", 1)]
    [InlineData("mobilefacenet", 3)]
    public void Hamilton_Lin_unknown_is_one_stranger_and_no_stranger_spans_the_cut_to_the_audience(string model, int detectEvery)
    {
        var clip = ClipFaces.Load(VideoClips.Hamilton(), models.Require(), model);
        var info = model == "dlib" ? Embedders.DlibResNet : Embedders.MobileFaceNet;
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(info), null, detectEvery);
        var summary = tracker.Summarize();
        output.WriteLine(ClipFaces.Describe(summary, tracker));
        int wide = faces[9].Single(f => f.Detected && f.Box.X1 > 400).Track; // singing on the right of the wide shot
        int close = faces[150].Where(f => f.Detected).MaxBy(f => f.Box.Width)!.Track; // his close-up
        Assert.NotEqual(wide, close);
        Assert.True(summary.Tracks[wide - 1].Stranger == summary.Tracks[close - 1].Stranger,
            $"Lin's wide shot (#{wide}) and close-up (#{close}) are strangers {summary.Tracks[wide - 1].Stranger} and {summary.Tracks[close - 1].Stranger}");
        foreach (var group in summary.Strangers.Where(g => g.Count > 1))
        {
            Assert.False(group.Any(t => summary.Tracks[t - 1].LastFrame < AudienceCut) && group.Any(t => summary.Tracks[t - 1].FirstFrame >= AudienceCut),
                $"stranger [{string.Join(", ", group)}] holds tracks from both sides of the cut at {AudienceCut}");
        }
    }

    /// <summary>
    /// facenet-pytorch's crowd clip (nobody enrolled, MTCNN from 40 px as the command runs it at 1080p), detecting every
    /// frame: a background face is two tracks (hidden a while, and back where it was; with MobileFaceNet another one too),
    /// and the two must be one stranger; a person hidden and found again is found near where they were lost (within two face widths). With MobileFaceNet, three
    /// tracks of 2-4 doubtful detections each (scores 0.73-0.90: a blurred head at frames 34-35 and 94, a hand over a face
    /// and a reflection, the red-haired boy looking down at 102-104), hundreds of pixels apart, were one more stranger.
    /// </summary>
    [SkippableTheory]
    [InlineData("mobilefacenet")]
    [InlineData("dlib")]
    public void Crowd_strangers_are_tracks_of_one_place_and_the_split_faces_are_joined(string model)
    {
        var clip = ClipFaces.Load(VideoClips.Crowd(), models.Require(), model, 40);
        var info = model == "dlib" ? Embedders.DlibResNet : Embedders.MobileFaceNet;
        var (tracker, faces) = clip.Track(FaceTrackerOptions.For(info), null, 1);
        var summary = tracker.Summarize();
        output.WriteLine(ClipFaces.Describe(summary, tracker));
        var boxes = new Dictionary<int, List<(int Frame, FaceNetSharp.Detection.FaceBox Box)>>();
        for (int f = 0; f < faces.Count; f++)
            foreach (var x in faces[f].Where(x => x.Detected))
                (boxes.TryGetValue(x.Track, out var l) ? l : boxes[x.Track] = []).Add((f, x.Box));
        foreach (var group in summary.Strangers.Where(g => g.Count > 1))
        {
            var ordered = group.OrderBy(t => summary.Tracks[t - 1].FirstFrame).ToList();
            for (int i = 1; i < ordered.Count; i++)
            {
                var last = boxes[ordered[i - 1]][^1].Box;
                var first = boxes[ordered[i]][0].Box;
                float gap = (FaceTrack.Center(first) - FaceTrack.Center(last)).Length();
                // two face widths: with dlib the face hidden from frame 31 to 91 is back 42 px (1.1 widths) from where it
                // was lost; of the doubtful tracks grouped before, the second began 308 px (3.2 widths) from the first's end
                Assert.True(gap <= 2 * Math.Max(last.Width, first.Width),
                    $"stranger [{string.Join(", ", group)}]: track {ordered[i]} starts {gap:F0} px from where track {ordered[i - 1]} ended");
            }
        }
        // the face at (888, 648) in frame 2, hidden from frame 31, back at (935, 705) in frame 100: one stranger, with
        // either model (box centres read off the detections)
        int before = TrackAt(faces, 2, 888, 648), after = TrackAt(faces, 100, 935, 705);
        Assert.NotEqual(before, after);
        Assert.True(summary.Tracks[before - 1].Stranger == summary.Tracks[after - 1].Stranger,
            $"the face of tracks {before} and {after} is strangers {summary.Tracks[before - 1].Stranger} and {summary.Tracks[after - 1].Stranger}");
    }

    /// <summary>The track with a detected box whose centre is within half a box width of (<paramref name="x"/>, <paramref name="y"/>) in <paramref name="frame"/>.</summary>
    private static int TrackAt(List<IReadOnlyList<TrackedFace>> faces, int frame, float x, float y)
    {
        var near = faces[frame].Where(f => f.Detected && Math.Abs((f.Box.X1 + f.Box.X2) / 2 - x) <= f.Box.Width / 2 && Math.Abs((f.Box.Y1 + f.Box.Y2) / 2 - y) <= f.Box.Height / 2).ToList();
        Assert.True(near.Count == 1, $"{near.Count} tracked faces near ({x}, {y}) in frame {frame}: {string.Join(", ", faces[frame].Select(f => $"#{f.Track} ({(f.Box.X1 + f.Box.X2) / 2:F0}, {(f.Box.Y1 + f.Box.Y2) / 2:F0})"))}");
        return near[0].Track;
    }
}
