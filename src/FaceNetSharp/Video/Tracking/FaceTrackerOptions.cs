using FaceNetSharp.Embedding;

namespace FaceNetSharp.Video.Tracking;

/// <summary>How faces are associated between frames, when a track is born, confirmed and ended.</summary>
/// <remarks>
/// Frame counts are in video frames, whatever the detection interval: with detection every k-th frame, a gap of
/// <see cref="MaxCoastFrames"/> spans about <c>MaxCoastFrames / k</c> detection runs.
/// </remarks>
public sealed record FaceTrackerOptions
{
    /// <summary>
    /// The smallest overlap (intersection over union) between a track's predicted box and a detection for them to be
    /// associated by position. 0.3 is SORT's gate (Bewley et al. 2016, <c>iou_threshold=0.3</c>).
    /// </summary>
    public float MinIou { get; init; } = 0.3f;

    /// <summary>
    /// Optimal (Hungarian) assignment of detections to tracks by IoU, or greedy (largest overlap first). Both gave the
    /// same tracks on both test clips at every detection interval tried (1, 3, 5; the Measure_variants tests); Hungarian
    /// is the default as the optimum where faces crowd, at negligible cost for tens of faces.
    /// </summary>
    public TrackAssociation Association { get; init; } = TrackAssociation.Hungarian;

    /// <summary>
    /// Detections a new track needs (on consecutive detection runs, one miss allowed) before it is confirmed, gets an
    /// id and is reported. 2: a single-run false detection never becomes a track.
    /// </summary>
    public int ConfirmHits { get; init; } = 2;

    /// <summary>
    /// Frames a confirmed track is kept alive (its box predicted, not reported) after its last detection before it
    /// can no longer be matched by position; it can still be re-identified by embedding within
    /// <see cref="ReidentifyFrames"/>. Half a second at 30 fps (SORT keeps a lost track 1 frame; MTCNN misses
    /// turned and blurred faces for several); see CrowdClipTrackingTests.Measure_variants for 5, 15 and 30.
    /// </summary>
    public int MaxCoastFrames { get; init; } = 15;

    /// <summary>
    /// Frames after its last detection within which a lost track can be taken up again by embedding (and within
    /// reach: half a face width per frame of gap). 5 s at 30 fps, for a face hidden a while within a shot. A scene cut
    /// bounds it further (see <see cref="FaceTracker.Update"/>): on short_hamilton_clip.mp4 this once joined Lin-Manuel
    /// Miranda's wide shot to his close-up 63 frames later, and Alex Lacamoire's profile to Barack Obama 132 frames
    /// later, each across two cuts; neither now.
    /// </summary>
    public int ReidentifyFrames { get; init; } = 150;

    /// <summary>The metric of the embeddings given to the tracker.</summary>
    public EmbeddingMetric Metric { get; init; } = EmbeddingMetric.Cosine;

    /// <summary>
    /// Distance between a detection's embedding and a track's mean embedding below which they are taken to be the
    /// same person: to re-identify a lost track, and to refuse a position match between different people (a
    /// detection at or above it from both the track's mean and its last embedding is not given to it by overlap). <see cref="For"/> sets it to the model's
    /// same-person threshold. Null: embeddings are not used for association.
    /// </summary>
    public float? SameFaceThreshold { get; init; }

    /// <summary>
    /// The model's measured operating points, from which unknown tracks are grouped (see <see cref="FaceTracker.Summarize"/>):
    /// at gallery identify's default FPIR for as many comparisons as there are other unknown tracks. <see cref="For"/>
    /// sets them. Null: grouped at <see cref="SameFaceThreshold"/>.
    /// </summary>
    public Recognition.OperatingPointSet? OperatingPoints { get; init; }

    /// <summary>Best chips kept per track (see <see cref="FaceTrack.BestChips"/>).</summary>
    public int BestChipCount { get; init; } = 3;

    /// <summary>Weight of the newest observed velocity in the track's smoothed velocity (exponential moving average).</summary>
    public float VelocitySmoothing { get; init; } = 0.5f;

    /// <summary>The defaults, with the embedding metric and same-person threshold of <paramref name="model"/>.</summary>
    public static FaceTrackerOptions For(EmbedderInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new FaceTrackerOptions { Metric = model.Metric, SameFaceThreshold = model.Threshold, OperatingPoints = model.OperatingPoints };
    }

    internal void Validate()
    {
        if (MinIou is not (> 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(MinIou), MinIou, "must be in (0, 1]");
        if (ConfirmHits < 1) throw new ArgumentOutOfRangeException(nameof(ConfirmHits), ConfirmHits, "must be at least 1");
        if (MaxCoastFrames < 0) throw new ArgumentOutOfRangeException(nameof(MaxCoastFrames), MaxCoastFrames, "must be at least 0");
        if (ReidentifyFrames < 0) throw new ArgumentOutOfRangeException(nameof(ReidentifyFrames), ReidentifyFrames, "must be at least 0");
        if (BestChipCount < 0) throw new ArgumentOutOfRangeException(nameof(BestChipCount), BestChipCount, "must be at least 0");
        if (VelocitySmoothing is not (>= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(VelocitySmoothing), VelocitySmoothing, "must be in [0, 1]");
        if (SameFaceThreshold is { } t && !(float.IsFinite(t) && t > 0)) throw new ArgumentOutOfRangeException(nameof(SameFaceThreshold), t, "must be a positive distance");
    }
}

/// <summary>How detections are assigned to tracks by overlap.</summary>
public enum TrackAssociation
{
    /// <summary>The assignment with the largest total IoU (Hungarian algorithm).</summary>
    Hungarian,
    /// <summary>Pairs taken largest IoU first.</summary>
    Greedy,
}
