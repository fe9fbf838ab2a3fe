using System.Numerics;
using FaceNetSharp.Detection;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Recognition;
using FaceNetSharp.Video.Tracking;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>The tracker on synthetic boxes and vectors: crossing paths, occlusion gaps, skipped frames, naming.</summary>
public sealed class FaceTrackerTests : IDisposable
{
    private const int Dims = 64;
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 60-pixel face centred at (x, y) with frontal landmarks.</summary>
    internal static DetectedFace Face(float x, float y, float size = 60, float score = 0.99f)
    {
        float h = size / 2;
        return new DetectedFace(new FaceBox(x - h, y - h, x + h, y + h), score,
        [
            new(x - size * 0.2f, y - size * 0.1f), new(x + size * 0.2f, y - size * 0.1f), new(x, y + size * 0.05f),
            new(x - size * 0.15f, y + size * 0.25f), new(x + size * 0.15f, y + size * 0.25f),
        ]);
    }

    private static TimeSpan T(int frame) => TimeSpan.FromSeconds(frame / 25.0);

    private static FaceTrackerOptions WithEmbeddings => new() { Metric = EmbeddingMetric.Cosine, SameFaceThreshold = 0.5f };

    [Fact]
    public void Crossing_paths_keep_their_ids()
    {
        // A walks right, B walks left at 12 px/frame on the same line: they overlap for a few frames; with a
        // tracker that does not predict (last box as the prediction), B's detection overlaps A's last box more than
        // A's own just as they pass, and the ids swap
        var tracker = new FaceTracker();
        var ids = new List<(int a, int b)>();
        for (int f = 0; f < 40; f++)
        {
            float ax = 100 + 12 * f, bx = 586 - 12 * f; // 6 px apart at frame 20, 18 px the other way at 21
            var faces = tracker.Update(f, T(f), [new(Face(ax, 200)), new(Face(bx, 200))]);
            if (f == 0) continue; // tracks are confirmed at their second detection
            Assert.Equal(2, faces.Count);
            int a = faces.Single(x => Math.Abs(FaceTrackCentre(x.Box).X - ax) < 1).Track;
            int b = faces.Single(x => Math.Abs(FaceTrackCentre(x.Box).X - bx) < 1 && x.Track != a).Track;
            ids.Add((a, b));
        }
        Assert.All(ids, p => Assert.Equal(ids[0], p));
        Assert.Equal(2, tracker.Tracks.Count);
    }

    private static Vector2 FaceTrackCentre(FaceBox b) => new((b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2);

    [Fact]
    public void Frames_without_detection_get_predicted_boxes_along_the_motion()
    {
        // detection every 4th frame; the face moves 8 px/frame to the right
        var tracker = new FaceTracker();
        for (int f = 0; f < 40; f++)
        {
            float x = 100 + 8 * f;
            var faces = tracker.Update(f, T(f), f % 4 == 0 ? [new(Face(x, 200))] : null);
            if (f < 5) continue; // confirmed at frame 4, velocity known from then
            var face = Assert.Single(faces);
            Assert.Equal(1, face.Track);
            Assert.Equal(f % 4 == 0, face.Detected);
            Assert.InRange(FaceTrackCentre(face.Box).X, x - 0.5f, x + 0.5f);
            Assert.InRange(face.Landmarks[2].X, x - 0.5f, x + 0.5f); // the nose moves with the box
        }
        Assert.Single(tracker.Tracks);
        Assert.Equal(10, tracker.Tracks[0].FramesSeen);
    }

    [Fact]
    public void A_single_false_detection_never_becomes_a_track()
    {
        var tracker = new FaceTracker();
        for (int f = 0; f < 20; f++)
        {
            var dets = new List<TrackDetection> { new(Face(200, 200)) };
            if (f == 7) dets.Add(new(Face(500, 100))); // one frame only
            var faces = tracker.Update(f, T(f), dets);
            Assert.All(faces, x => Assert.Equal(1, x.Track));
        }
        Assert.Single(tracker.Tracks);
    }

    [Fact]
    public void A_face_back_after_an_occlusion_longer_than_the_coasting_keeps_its_id_by_embedding_and_a_stranger_does_not()
    {
        var random = new Random(1);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var bob = SyntheticVectors.UnitVector(random, Dims);
        var tracker = new FaceTracker(WithEmbeddings);
        for (int f = 0; f < 100; f++)
        {
            var dets = new List<TrackDetection>();
            if (f < 30 || f >= 60) dets.Add(new(Face(f < 30 ? 200 : 420, 200), SyntheticVectors.Around(random, alice, 0.3))); // hidden 30 frames, comes back elsewhere
            if (f >= 70) dets.Add(new(Face(200, 200), SyntheticVectors.Around(random, bob, 0.3))); // a stranger where Alice was
            var faces = tracker.Update(f, T(f), dets);
            if (f >= 60) Assert.Contains(faces, x => x.Track == 1 && x.Box.X1 > 300);
            if (f >= 71) Assert.Contains(faces, x => x.Track == 2 && x.Box.X1 < 300);
        }
        Assert.Equal(2, tracker.Tracks.Count);
        Assert.Equal(70, tracker.Tracks[0].FramesSeen);
    }

    [Fact]
    public void Without_embeddings_a_long_gap_ends_the_track()
    {
        var tracker = new FaceTracker();
        for (int f = 0; f < 60; f++)
            tracker.Update(f, T(f), f < 20 || f >= 40 ? [new(Face(200, 200))] : []);
        Assert.Equal(2, tracker.Tracks.Count); // 20 frames > MaxCoastFrames (15): position alone cannot bridge it
        var short_ = new FaceTracker();
        for (int f = 0; f < 60; f++)
            short_.Update(f, T(f), f < 20 || f >= 30 ? [new(Face(200, 200))] : []);
        Assert.Single(short_.Tracks); // a 10-frame gap is bridged by position
    }

    [Fact]
    public void Two_faces_that_swap_places_between_detections_are_told_apart_by_embedding()
    {
        // detection every 6th frame; two overlapping faces trade places (one steps behind the other): each detection
        // overlaps both tracks, so position alone keeps the places and swaps the people
        var random = new Random(2);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var bob = SyntheticVectors.UnitVector(random, Dims);
        foreach (bool useEmbeddings in new[] { true, false })
        {
            var tracker = new FaceTracker(useEmbeddings ? WithEmbeddings : new FaceTrackerOptions());
            int? aliceId = null;
            var aliceIds = new List<int>();
            for (int f = 0; f <= 60; f += 6)
            {
                bool swapped = f >= 30;
                float ax = swapped ? 215 : 200, bx = swapped ? 200 : 215; // IoU 0.6
                var faces = tracker.Update(f, T(f), [new(Face(ax, 200), SyntheticVectors.Around(random, alice, 0.3)), new(Face(bx, 200), SyntheticVectors.Around(random, bob, 0.3))]);
                if (f == 0) continue;
                var a = faces.Single(x => Math.Abs(FaceTrackCentre(x.Box).X - ax) < 1);
                aliceId ??= a.Track;
                aliceIds.Add(a.Track);
            }
            if (useEmbeddings) Assert.All(aliceIds, id => Assert.Equal(aliceId, id));
            else Assert.Contains(aliceIds, id => id != aliceId); // the case really needs the embeddings
        }
    }

    [Fact]
    public void Hungarian_finds_the_assignment_greedy_misses()
    {
        float n = float.NegativeInfinity;
        var score = new float[,] { { 0.9f, 0.8f }, { 0.85f, n } };
        Assert.Equal([(0, 0)], Assignment.Greedy(score));
        Assert.Equal([(0, 1), (1, 0)], Assignment.Hungarian(score).OrderBy(p => p.row));
        var wide = new float[,] { { n, 0.4f, 0.6f } };
        Assert.Equal([(0, 2)], Assignment.Hungarian(wide));
        Assert.Empty(Assignment.Hungarian(new float[,] { { n, n }, { n, n } }));
    }

    [Fact]
    public void A_track_is_named_from_its_combined_embeddings_not_from_one_lucky_frame()
    {
        var random = new Random(3);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var bob = SyntheticVectors.UnitVector(random, Dims);
        var stranger = SyntheticVectors.UnitVector(random, Dims);
        using var gallery = FaceGallery.Open(_dir.Combine("g.db"), "synthetic", Dims);
        gallery.AddFaces("alice", [(SyntheticVectors.Around(random, alice, 0.3), null)]);
        gallery.AddFaces("bob", [(SyntheticVectors.Around(random, bob, 0.3), null)]);
        var namer = new TrackNamer(gallery, ThresholdChoice.Explicit(0.4f));
        var tracker = new FaceTracker(WithEmbeddings, namer);
        for (int f = 0; f < 30; f++)
        {
            var strangerVector = f == 5 ? Blend(bob, 0.72f, stranger, 0.7f) : SyntheticVectors.Around(random, stranger, 0.6); // one frame looks like Bob
            var faces = tracker.Update(f, T(f), [new(Face(150, 200), SyntheticVectors.Around(random, alice, 0.6)), new(Face(450, 200), strangerVector)]);
            if (f == 0) continue;
            var a = faces.Single(x => x.Box.X1 < 300);
            var s = faces.Single(x => x.Box.X1 > 300);
            if (f < TrackNamer.DefaultMinEmbeddings - 1) Assert.Null(a.Name); // too little evidence yet
            else Assert.Equal("alice", a.Name);
            Assert.Null(s.Name);
        }
        Assert.Equal(30, tracker.Tracks[1].FramesSeen); // the lucky frame was part of the stranger's track
        Assert.True(gallery.Identify(Blend(bob, 0.72f, stranger, 0.7f), 1, 0.4f)[0] is { Person: "bob", IsKnown: true }); // alone, it would name Bob
        var summary = tracker.Summarize();
        Assert.Equal(["alice"], summary.People.Keys);
        Assert.Null(summary.Tracks.Single(t => t.Track == 2).Name);
        Assert.Equal(30, summary.Tracks[0].FramesSeen);
        Assert.Equal(T(29), summary.Tracks[0].LastTime);
    }

    /// <summary>a * x + b * y, normalised: for orthogonal-ish x and y, cosine a' to x and b' to y.</summary>
    private static float[] Blend(float[] x, float a, float[] y, float b)
    {
        var v = x.Select((xi, i) => a * xi + b * y[i]).ToArray();
        float norm = MathF.Sqrt(v.Sum(e => e * e));
        return v.Select(e => e / norm).ToArray();
    }

    [Fact]
    public void Unknown_tracks_of_one_stranger_are_grouped_and_another_stranger_is_apart()
    {
        var random = new Random(4);
        var s1 = SyntheticVectors.UnitVector(random, Dims);
        var s2 = SyntheticVectors.UnitVector(random, Dims);
        var tracker = new FaceTracker(WithEmbeddings with { ReidentifyFrames = 20 });
        for (int f = 0; f < 200; f++)
        {
            var dets = new List<TrackDetection>();
            if (f < 30 || f >= 100) dets.Add(new(Face(200, 200), SyntheticVectors.Around(random, s1, 0.5))); // gone 70 frames: a new track
            if (f >= 50) dets.Add(new(Face(500, 200), SyntheticVectors.Around(random, s2, 0.5)));
            tracker.Update(f, T(f), dets);
        }
        var summary = tracker.Summarize();
        Assert.Equal(3, summary.Tracks.Count);
        Assert.Equal(2, summary.Strangers.Count);
        Assert.Contains(summary.Strangers, g => g.SequenceEqual([1, 3]));
        Assert.Contains(summary.Strangers, g => g.SequenceEqual([2]));
    }

    [Fact]
    public void Best_chips_are_the_most_frontal_confident_ones()
    {
        var tracker = new FaceTracker(new FaceTrackerOptions { BestChipCount = 2 });
        for (int f = 0; f < 10; f++)
        {
            var face = Face(200, 200);
            if (f != 6) // turned: the nose towards the right eye
                face = face with { Landmarks = [.. face.Landmarks.Select((p, i) => i == 2 ? p + new Vector2(10 + f, 0) : p)] };
            var chip = new FaceNetSharp.Imaging.RgbImage(8, 8, new byte[8 * 8 * 3]);
            tracker.Update(f, T(f), [new(face, null, chip)]);
        }
        var best = tracker.Tracks[0].BestChips;
        Assert.Equal(2, best.Count);
        Assert.Equal(6, best[0].Frame);
        Assert.Equal(1f, best[0].Frontality, 3);
        Assert.Equal(0, best[1].Frame); // the least turned of the others
    }

    [Fact]
    public void Someone_else_in_the_same_place_after_a_cut_gets_a_new_track()
    {
        // a scene cut: Alice's place is taken by Bob from frame 20 (the boxes overlap at IoU 0.7); by position alone
        // Bob would continue Alice's track
        var random = new Random(5);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var bob = SyntheticVectors.UnitVector(random, Dims);
        var tracker = new FaceTracker(WithEmbeddings);
        for (int f = 0; f < 40; f++)
            tracker.Update(f, T(f), [new(Face(f < 20 ? 200 : 210, 200), SyntheticVectors.Around(random, f < 20 ? alice : bob, 0.3))]);
        Assert.Equal(2, tracker.Tracks.Count);
        Assert.Equal((0, 19), (tracker.Tracks[0].FirstFrame, tracker.Tracks[0].LastFrame));
        Assert.Equal((20, 39), (tracker.Tracks[1].FirstFrame, tracker.Tracks[1].LastFrame));
        var positionOnly = new FaceTracker();
        for (int f = 0; f < 40; f++)
            positionOnly.Update(f, T(f), [new(Face(f < 20 ? 200 : 210, 200))]);
        Assert.Single(positionOnly.Tracks);
    }

    [Fact]
    public void A_look_alike_across_the_frame_right_after_a_loss_is_not_re_identified()
    {
        // Alice (40 px) is lost at frame 10; at frame 14 a face with her look appears 600 px away: no one walks 15
        // face widths in 4 frames, so it is a new track; the same face near her last place is her again
        var random = new Random(6);
        var alice = SyntheticVectors.UnitVector(random, Dims);
        var tracker = new FaceTracker(WithEmbeddings);
        for (int f = 0; f < 30; f++)
        {
            var dets = new List<TrackDetection>();
            if (f < 10) dets.Add(new(Face(200, 200, 40), SyntheticVectors.Around(random, alice, 0.2)));
            if (f is >= 14 and < 20) dets.Add(new(Face(800, 200, 40), SyntheticVectors.Around(random, alice, 0.2)));
            if (f >= 25) dets.Add(new(Face(260, 200, 40), SyntheticVectors.Around(random, alice, 0.2))); // 60 px from her last place, 15 frames on
            tracker.Update(f, T(f), dets);
        }
        Assert.Equal(2, tracker.Tracks.Count);
        Assert.Equal(15, tracker.Tracks[0].FramesSeen);
        Assert.Equal((14, 19), (tracker.Tracks[1].FirstFrame, tracker.Tracks[1].LastFrame));
    }
}
