using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Video.Tracking;

/// <summary>
/// Follows faces across the frames of a video: fed once per frame, in order, with that frame's detections (or null
/// on a frame the detector skipped), it answers each face's track id, box and name.
/// <code>
/// var tracker = new FaceTracker(FaceTrackerOptions.For(recognizer.Model), namer);   // namer: null without a gallery
/// foreach (frame) faces = tracker.Update(index, time, detectEveryK ? detections : null);
/// var summary = tracker.Summarize();
/// </code>
/// Association: each live track's box is predicted at constant velocity; detections are assigned to tracks by
/// overlap (IoU at least <see cref="FaceTrackerOptions.MinIou"/>, Hungarian or greedy); where a detection overlaps
/// several tracks or a track several detections, the embeddings decide with the overlap, and a detection that looks
/// like someone else (see <see cref="FaceTrackerOptions.SameFaceThreshold"/>) is never given to a track by position. A detection matching no
/// track by overlap takes up a lost track whose mean embedding is within the same-person threshold and within reach
/// (a face coming back after an occlusion), or a new, unconfirmed one (a face that moved more than its width since
/// its first detection); any other starts a new track, confirmed after <see cref="FaceTrackerOptions.ConfirmHits"/>
/// detections. Only confirmed tracks are reported. Not thread-safe: one tracker per video.
/// </summary>
public sealed class FaceTracker
{
    /// <summary>
    /// Weight of the embedding distance (in units of the same-person threshold) against IoU where association is
    /// ambiguous: a different person (distance around 1.5 thresholds) then loses 0.75 of score, more than any IoU
    /// difference between two faces overlapping one box, while the same person (about 0.5) loses 0.25.
    /// </summary>
    private const float AppearanceWeight = 0.5f;

    private readonly FaceTrackerOptions _options;
    private readonly TrackNamer? _namer;
    private readonly List<FaceTrack> _live = [];
    private readonly List<FaceTrack> _confirmed = [];
    private int _lastFrame = int.MinValue;
    private int _lastDetectionFrame = int.MinValue;
    private int _lastCut = int.MinValue; // the first frame of the current shot

    /// <summary>A tracker with <paramref name="options"/> (default: <see cref="FaceTrackerOptions"/>'s defaults, no embeddings used) naming tracks with <paramref name="namer"/> when given.</summary>
    public FaceTracker(FaceTrackerOptions? options = null, TrackNamer? namer = null)
    {
        _options = options ?? new FaceTrackerOptions();
        _options.Validate();
        _namer = namer;
        if (namer is not null && namer.Gallery.Metric != _options.Metric)
            throw new ArgumentException($"the gallery's metric ({namer.Gallery.Metric}) differs from the tracker's ({_options.Metric})");
    }

    /// <summary>The options in use.</summary>
    public FaceTrackerOptions Options => _options;

    /// <summary>Every confirmed track so far, by id (ended ones included).</summary>
    public IReadOnlyList<FaceTrack> Tracks => _confirmed;

    /// <summary>
    /// Takes frame <paramref name="frame"/> (increasing from call to call) and its <paramref name="detections"/>, or
    /// null when the detector did not run on it (the tracks' boxes are then predicted). Returns the confirmed
    /// tracks' faces in this frame, by track id: on a detection frame those detected, on a skipped frame those
    /// detected at the last detection run, at their predicted boxes. <paramref name="sceneCut"/>: the frame starts a new
    /// shot (<see cref="SceneCutDetector"/>): a track is not carried into it by position (no predicted box, no overlap
    /// with the last shot's boxes), only re-identified by embedding, and only if it was in view when the shot ended;
    /// tracks lost before then (and unconfirmed ones) end at the cut.
    /// </summary>
    public IReadOnlyList<TrackedFace> Update(int frame, TimeSpan time, IReadOnlyList<TrackDetection>? detections, bool sceneCut = false)
    {
        if (frame <= _lastFrame) throw new ArgumentOutOfRangeException(nameof(frame), frame, $"frames must increase; the last was {_lastFrame}");
        _lastFrame = frame;
        if (sceneCut) Cut(frame);
        var faces = new List<TrackedFace>();
        if (detections is null)
        {
            foreach (var t in _live)
            {
                if (t.Id == 0 || t.LastFrame != _lastDetectionFrame || t.LastFrame < _lastCut || frame - t.LastFrame > _options.MaxCoastFrames) continue;
                var box = t.Predict(frame, _options.MaxCoastFrames);
                faces.Add(Face(t, box, t.LandmarksAt(box), detected: false));
            }
            faces.Sort((a, b) => a.Track.CompareTo(b.Track));
            return faces;
        }

        int previousRun = _lastDetectionFrame;
        _lastDetectionFrame = frame;
        var matchedTrack = Associate(frame, detections, previousRun);
        var matched = new HashSet<FaceTrack>();
        for (int d = 0; d < detections.Count; d++)
        {
            var det = detections[d];
            var track = matchedTrack[d];
            if (track is null)
            {
                track = new FaceTrack(frame, time, det.Face);
                _live.Add(track);
            }
            else
            {
                // taken up across a cut: its motion in the last shot says nothing about this one
                track.Match(frame, time, det.Face, _options.VelocitySmoothing, sameShot: track.LastFrame >= _lastCut);
            }
            matched.Add(track);
            Observe(track, frame, time, det);
        }

        // births, deaths
        foreach (var t in _live) // in order of birth, so ids follow first appearance
        {
            if (!matched.Contains(t)) t.Misses++;
            if (t.Id == 0 && t.Hits >= _options.ConfirmHits)
            {
                t.Id = _confirmed.Count + 1;
                _confirmed.Add(t);
            }
        }
        for (int i = _live.Count - 1; i >= 0; i--)
        {
            var t = _live[i];
            bool dead = t.Id == 0
                ? t.Misses >= 2 // a tentative track may miss one detection run
                : frame - t.LastFrame > Math.Max(_options.MaxCoastFrames, t.EmbeddingCount > 0 && _options.SameFaceThreshold is not null ? _options.ReidentifyFrames : 0);
            if (dead) _live.RemoveAt(i);
        }

        foreach (var t in _live)
            if (t.Id != 0 && t.LastFrame == frame) faces.Add(Face(t, t.Box, t.Landmarks, detected: true));
        faces.Sort((a, b) => a.Track.CompareTo(b.Track));
        return faces;
    }

    /// <summary>
    /// A scene cut at <paramref name="frame"/>: tracks not in view when the last shot ended (not detected within
    /// <see cref="FaceTrackerOptions.MaxCoastFrames"/> before the cut, or not since the shot began) and unconfirmed ones
    /// end here; those in view stay to be re-identified by embedding in the new shot (the same person in a closer
    /// shot), not by position. So a track spans at most one cut without being seen: with dlib, Alex Lacamoire's
    /// profile track (last seen at frame 81, the cut to Lin-Manuel Miranda's close-up) was re-identified on Barack Obama
    /// in the audience at frame 213, after the next cut (211), within dlib's same-person threshold of his profile's
    /// mean and last face (SceneCutTrackingTests, SceneCutCommandTests).
    /// </summary>
    private void Cut(int frame)
    {
        for (int i = _live.Count - 1; i >= 0; i--)
        {
            var t = _live[i];
            bool inView = t.Id != 0 && t.LastFrame >= _lastCut && frame - t.LastFrame <= _options.MaxCoastFrames;
            if (!inView) _live.RemoveAt(i);
        }
        _lastCut = frame;
    }

    /// <summary>
    /// The summary so far: every confirmed track with its final name (from all its embeddings), and the unknown
    /// tracks grouped by look (<see cref="StrangerGrouping"/>: their mean embeddings, at gallery identify's operating
    /// point for as many comparisons as there are other unknown tracks).
    /// </summary>
    public VideoSummary Summarize()
    {
        if (_namer is not null)
            foreach (var t in _confirmed)
                if (t.EmbeddingCount > 0 && t.NamedAt != t.EmbeddingCount) Rename(t);

        var unknown = _confirmed.Where(t => t.Name is not { IsKnown: true } && t.EmbeddingCount > 0).ToList();
        var group = new Dictionary<FaceTrack, int>();
        if (unknown.Count > 0 && _options.SameFaceThreshold is { } sameFace)
        {
            // the threshold for every unknown track, also those without the evidence to join a group: with MobileFaceNet
            // on short_hamilton_clip.mp4 only two have it, and at one comparison (0.52, not 0.41) Alex Lacamoire at the
            // piano and an audience face (0.49 apart) would be one stranger again
            float threshold = StrangerGrouping.Threshold(unknown.Count, _options.OperatingPoints, sameFace);
            // two faces of one frame are two people: with dlib on short_hamilton_clip.mp4 two audience faces, both
            // detected in frames 213-273, were one stranger (SceneCutCommandTests); and a track without the evidence
            // (a profile shot, a few doubtful detections) joins nobody (StrangerEvidenceTests)
            var labels = StrangerGrouping.Group(unknown.Select(t => t.Sum!).ToList(), threshold, _options.Metric,
                (a, b) => !StrangerGrouping.HasEvidence(unknown[a].GroupingEvidence) || !StrangerGrouping.HasEvidence(unknown[b].GroupingEvidence)
                    || unknown[a].DetectedTogetherWith(unknown[b]));
            for (int i = 0; i < unknown.Count; i++) group[unknown[i]] = labels[i] + 1;
        }
        var tracks = _confirmed.Select(t => new TrackSummary(t.Id, t.Name is { IsKnown: true } n ? n.Person : null, t.Name?.Distance,
            group.TryGetValue(t, out int g) ? g : null, t.FirstFrame, t.LastFrame, t.FirstTime, t.LastTime, t.FramesSeen, t.EmbeddingCount)).ToList();
        var people = tracks.Where(t => t.Name is not null).GroupBy(t => t.Name!, StringComparer.Ordinal)
            .ToDictionary(p => p.Key, p => (IReadOnlyList<int>)p.Select(t => t.Track).ToList(), StringComparer.Ordinal);
        var strangers = tracks.Where(t => t.Stranger is not null).GroupBy(t => t.Stranger!.Value).OrderBy(s => s.Key)
            .Select(s => (IReadOnlyList<int>)s.Select(t => t.Track).ToList()).ToList();
        return new VideoSummary(tracks, people, strangers);
    }

    private TrackedFace Face(FaceTrack t, FaceBox box, System.Numerics.Vector2[] landmarks, bool detected) =>
        new(t.Id, box, landmarks, detected, t.Score, t.Name is { IsKnown: true } n ? n.Person : null, t.Name?.Distance);

    private void Observe(FaceTrack track, int frame, TimeSpan time, TrackDetection det)
    {
        if (det.Embedding is { } e)
        {
            track.AddEmbedding(e);
            if (FaceEvidence.IsEvidence(det.Face)) track.GroupingEvidence++;
            if (_namer is not null)
            {
                if (_namer.Naming == TrackNaming.Vote && _namer.IdentifyOne(e) is { } m)
                {
                    if (!track.Votes.TryGetValue(m.Person, out var tally)) track.Votes[m.Person] = tally = new VoteTally();
                    tally.Nearest++;
                    tally.DistanceSum += m.Distance;
                    if (m.IsKnown) tally.Known++;
                }
                // revise the name at every embedding at first, then as the evidence grows by a quarter
                int n = track.EmbeddingCount;
                if (n >= _namer.MinEmbeddings && (n < 8 || n >= track.NamedAt * 5 / 4)) Rename(track);
            }
        }
        if (det.Chip is { } chip && _options.BestChipCount > 0)
        {
            float frontality = FaceTrack.Frontality(det.Face.Landmarks);
            track.OfferChip(new TrackChip(frame, time, chip, det.Face.Score * frontality, det.Face.Score, frontality, FaceTrack.Sharpness(chip)), _options.BestChipCount);
        }
    }

    private void Rename(FaceTrack t)
    {
        t.Name = _namer!.Name(t);
        t.NamedAt = t.EmbeddingCount;
    }

    /// <summary>The track each detection belongs to, or null for a new face; <paramref name="previousRun"/>: the frame of the detection run before.</summary>
    private FaceTrack?[] Associate(int frame, IReadOnlyList<TrackDetection> detections, int previousRun)
    {
        var result = new FaceTrack?[detections.Count];
        // position says nothing across a cut: only tracks seen in this shot are matched by overlap
        var candidates = _live.Where(t => frame - t.LastFrame <= _options.MaxCoastFrames && t.LastFrame >= _lastCut).ToList();
        int nt = candidates.Count, nd = detections.Count;
        var iou = new float[nt, nd];
        var rows = new int[nt];
        var cols = new int[nd];
        for (int i = 0; i < nt; i++)
        {
            var predicted = candidates[i].Predict(frame, _options.MaxCoastFrames);
            for (int j = 0; j < nd; j++)
            {
                float o = Iou(predicted, detections[j].Face.Box);
                if (o < _options.MinIou || LooksLikeSomeoneElse(candidates[i], detections[j], o)) continue;
                iou[i, j] = o;
                rows[i]++;
                cols[j]++;
            }
        }
        // score: the overlap, less the embedding distance where the overlap alone is ambiguous
        var score = new float[nt, nd];
        for (int i = 0; i < nt; i++)
        {
            for (int j = 0; j < nd; j++)
            {
                if (iou[i, j] == 0) { score[i, j] = float.NegativeInfinity; continue; }
                score[i, j] = iou[i, j];
                if ((rows[i] > 1 || cols[j] > 1) && AppearanceDistance(candidates[i], detections[j]) is { } d)
                    score[i, j] -= AppearanceWeight * d / _options.SameFaceThreshold!.Value;
            }
        }
        var pairs = _options.Association == TrackAssociation.Hungarian ? Assignment.Hungarian(score) : Assignment.Greedy(score);
        var taken = new HashSet<FaceTrack>();
        foreach (var (i, j) in pairs)
        {
            result[j] = candidates[i];
            taken.Add(candidates[i]);
        }

        // re-identification: a detection no track overlaps, against tracks not seen this frame, by embedding: a
        // confirmed track lost for a while, or a tentative one whose face moved more than its box width since the last
        // detection run (its velocity is not known before its second detection, so its predicted box stays behind: on
        // facenet-pytorch's video.mp4 the girl with the scarf walks 38 px a frame with a 94 px box, 115 px between runs
        // detecting every 3rd frame, and was never confirmed). Confirmed tracks first, then the nearest embedding.
        if (_options.SameFaceThreshold is not { } threshold) return result;
        var reid = new List<(bool tentative, float distance, int det, FaceTrack track)>();
        for (int j = 0; j < nd; j++)
        {
            if (result[j] is not null || cols[j] > 0 || detections[j].Embedding is null) continue;
            foreach (var t in _live)
            {
                if (taken.Contains(t) || t.EmbeddingCount == 0 || frame - t.LastFrame > _options.ReidentifyFrames) continue;
                if (ReidentifyDistance(t, frame, detections[j], threshold) is { } d) reid.Add((t.Id == 0, d, j, t));
            }
        }
        foreach (var (_, _, j, t) in reid.OrderBy(r => r.tentative).ThenBy(r => r.distance))
        {
            if (result[j] is not null || taken.Contains(t)) continue;
            result[j] = t;
            taken.Add(t);
        }

        // a detection given by overlap to a tentative track (one detection, no id) that looks like a confirmed track
        // lost at the last detection run goes to the confirmed track: a one-detection hypothesis is weaker evidence than
        // a track's faces. On facenet-pytorch's video.mp4 detecting every 5th frame, a background face (#5, 45 px) was
        // refused an odd detection at frame 90 (0.69 from its last face, 0.74 from its mean: a new tentative track there);
        // at 95 the face was itself again (0.29 from the mean) but overlapped only the tentative track, #5's predicted box
        // having drifted at its velocity (IoU 0.12), and the person went on as a second track. Within the same window as
        // re-identification: there too, a face back after 70 frames (#4, frames 25 to 95) was 0.68 from its track's mean
        // at its first detection (a tentative track), 0.36 at its second, which overlapped the tentative track
        for (int j = 0; j < nd; j++)
        {
            if (result[j] is not { Id: 0 } tentative || detections[j].Embedding is null) continue;
            FaceTrack? best = null;
            float bestDistance = threshold;
            foreach (var t in _live)
            {
                if (t.Id == 0 || taken.Contains(t) || t.LastFrame >= previousRun || frame - t.LastFrame > _options.ReidentifyFrames) continue;
                if (ReidentifyDistance(t, frame, detections[j], threshold) is { } d && d < bestDistance) (best, bestDistance) = (t, d);
            }
            if (best is null) continue;
            taken.Remove(tentative);
            result[j] = best;
            taken.Add(best);
        }
        return result;
    }

    /// <summary>
    /// The distance of <paramref name="detection"/>'s embedding from the mean of <paramref name="track"/>, not seen at
    /// <paramref name="frame"/>, when the detection may be that track's face again; null when it may not: it is out of
    /// reach (<see cref="WithinReach"/>), or at or beyond <paramref name="threshold"/> from the track's mean or from its
    /// last face, or (across a cut) the track has no evidence of its appearance and the detector is not sure of the
    /// face. The one test of re-identification, for a detection no track overlaps and for one given by overlap to
    /// a tentative track.
    /// </summary>
    private float? ReidentifyDistance(FaceTrack track, int frame, TrackDetection detection, float threshold)
    {
        // across a cut (a track last seen in the shot before) only the face links the detection to the track. A track
        // without evidence of its appearance (fewer than StrangerGrouping.MinEvidence sure, frontal faces: a profile
        // shot, a few doubtful detections) is taken up there only by a face the detector is sure of: on
        // short_hamilton_clip.mp4 Alex Lacamoire's profile close-up, whose vectors are of cheek and hair, was in view at
        // the cut at 82 and took false detections in Lin-Manuel Miranda's close-up, on his hair at frame 90 with
        // MobileFaceNet (25 px, score 0.87; 0.582 from the track's mean, 0.570 from its last face, threshold 0.59) and on
        // his fingers at 170 detecting every frame (score 0.74; 0.31 and 0.35), with dlib that one too
        // (SceneCutTrackingTests). A false cut (a flash) in the crowd clip splits no more tracks than before; in the
        // audience shot a profile face whose first detection after it is unsure does split (FalseCutMeasurements)
        if (track.LastFrame < _lastCut && !StrangerGrouping.HasEvidence(track.GroupingEvidence) && detection.Face.Score < FaceEvidence.MinScore) return null;
        // within reach also across a cut: without the gate there, on the Hamilton clip Alex Lacamoire's piano
        // track took his profile face at the cut (frame 20) and his profile track a face in Lin's close-up
        if (!WithinReach(track, frame, detection.Face.Box)) return null;
        // near the track's mean and its last face: a mean of many frames sits nearer to every face (with dlib,
        // Barack Obama after the Hamilton clip's cut was within 0.42 of the means of Lin's and of Alex's
        // profile track, and was taken by one of them; 0.473 and more from their last faces)
        if (AppearanceDistance(track, detection) is not { } d || d >= threshold || FarFromLast(track, detection, threshold)) return null;
        return d;
    }

    /// <summary>
    /// How far, in face widths per frame of gap, a lost face may have moved and still be re-identified. Half a face
    /// width per frame is a fast walk towards the camera; measured on facenet-pytorch's video.mp4, without this gate a
    /// track of small background faces (27 px) was re-identified across the frame, 355 px after 16 frames and 666 px
    /// after 12, and then took over the red-haired boy's face.
    /// </summary>
    private const float ReachPerFrame = 0.5f;

    /// <summary>True when <paramref name="box"/>'s centre is within reach of the track's last box (see <see cref="ReachPerFrame"/>).</summary>
    private static bool WithinReach(FaceTrack t, int frame, FaceBox box)
    {
        float size = Math.Max(Math.Max(t.Box.Width, t.Box.Height), Math.Max(box.Width, box.Height));
        float reach = size * (1 + ReachPerFrame * (frame - t.LastFrame));
        return (FaceTrack.Center(box) - FaceTrack.Center(t.Box)).Length() <= reach;
    }

    /// <summary>
    /// True when the detection's embedding is at or beyond the same-person threshold from both the track's mean and
    /// its last embedding: another person in the same place (a scene cut, someone stepping in front). Measured on
    /// short_hamilton_clip.mp4 with MobileFaceNet (threshold 0.59): consecutive detections of one face were at most
    /// 0.57 from the last and 0.53 from the mean, except across a cut or a hand over the face; the cut from Lin-Manuel
    /// Miranda to an audience member at frame 211 was 0.75 and 0.77 and was wrongly taken by position without this.
    /// Where the overlap is weak as well (IoU below <see cref="FirmOverlap"/>: the box jumped), beyond the threshold
    /// from the last embedding alone is enough: with dlib (threshold 0.42) Barack Obama's face, which replaces Lin's at
    /// that cut at IoU 0.31, was 0.473 from Lin's last embedding but within 0.42 of his track's mean (a mean of many
    /// frames sits nearer to every face), and Lin's track went on, named, to the end of the clip.
    /// </summary>
    private bool LooksLikeSomeoneElse(FaceTrack t, TrackDetection d, float iou)
    {
        if (_options.SameFaceThreshold is not { } threshold || t.Mean is null || !FarFromLast(t, d, threshold)) return false;
        return iou < FirmOverlap || AppearanceDistance(t, d) >= threshold;
    }

    /// <summary>
    /// An overlap with the predicted box that position alone vouches for (a hand over the face, a turn of the head:
    /// the box stays put); below it, the box jumped and the face must also look like the track's last one.
    /// </summary>
    private const float FirmOverlap = 0.5f;

    /// <summary>True when the detection's embedding is at or beyond <paramref name="threshold"/> from the track's last one.</summary>
    private bool FarFromLast(FaceTrack t, TrackDetection d, float threshold) =>
        d.Embedding is not null && t.LastEmbedding is { } last && EmbeddingDistance.Compute(last, d.Embedding, _options.Metric) >= threshold;

    private float? AppearanceDistance(FaceTrack t, TrackDetection d) =>
        _options.SameFaceThreshold is null || d.Embedding is null || t.Mean is not { } mean ? null
            : EmbeddingDistance.Compute(mean, d.Embedding, _options.Metric);

    /// <summary>Intersection over union of two boxes (0 when either is empty).</summary>
    internal static float Iou(FaceBox a, FaceBox b)
    {
        float w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        float h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0;
        float inter = w * h;
        float union = a.Area + b.Area - inter;
        return union > 0 ? inter / union : 0;
    }
}
