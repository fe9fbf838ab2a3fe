using FaceNetSharp.Recognition;

namespace FaceNetSharp.Video.Tracking;

/// <summary>How a track's embeddings are combined into one answer against the gallery.</summary>
public enum TrackNaming
{
    /// <summary>
    /// The mean of the track's unit embeddings, normalised again, identified once: noise of single frames (blur, a
    /// turned head) averages out, as in template-based face identification (IJB's "media pooling"). The default:
    /// measured on short_hamilton_clip.mp4 (HamiltonClipTrackingTests.Measure_variants), it named Lin-Manuel Miranda
    /// in all 16 runs (2 models x 2 thresholds x 2 associations x detection every 1st or 3rd frame; MobileFaceNet mean
    /// distance 0.197 against single frames 0.17-0.49), where the vote lost him with dlib at FPIR 1% detecting every
    /// 3rd frame (too few frames under 0.356). Its known failure: with dlib at the looser 1:1 threshold 0.42, a 5-frame
    /// audience track (mean 0.414) was named Alex Lacamoire, which the vote did not.
    /// </summary>
    Mean,
    /// <summary>Every embedding identified on its own; the track is the person named by more than half of them.</summary>
    Vote,
}

/// <summary>
/// Names tracks against a gallery by combining their frames' embeddings, at the threshold <c>gallery identify</c>
/// uses (<see cref="IdentificationThreshold.Choose"/> at the gallery's number of people). A track is not named before
/// it has <see cref="MinEmbeddings"/> embeddings; its name is revised as embeddings arrive.
/// </summary>
public sealed class TrackNamer
{
    /// <summary>
    /// The embeddings a track needs before it is named: with fewer, one lucky (or unlucky) frame would decide. Not
    /// tuned: 3 keeps a name within a tenth of a second at 30 fps detecting every frame, a third at every 3rd.
    /// </summary>
    public const int DefaultMinEmbeddings = 3;

    /// <summary>Names against <paramref name="gallery"/> (not disposed here) at <paramref name="threshold"/>.</summary>
    public TrackNamer(IFaceGallery gallery, ThresholdChoice threshold, TrackNaming naming = TrackNaming.Mean, int minEmbeddings = DefaultMinEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        ArgumentNullException.ThrowIfNull(threshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(minEmbeddings, 1);
        Gallery = gallery;
        Threshold = threshold;
        Naming = naming;
        MinEmbeddings = minEmbeddings;
    }

    /// <summary>The gallery names come from.</summary>
    public IFaceGallery Gallery { get; }

    /// <summary>The identification threshold and how it was chosen.</summary>
    public ThresholdChoice Threshold { get; }

    /// <summary>How a track's embeddings are combined.</summary>
    public TrackNaming Naming { get; }

    /// <summary>Embeddings a track needs before it is named.</summary>
    public int MinEmbeddings { get; }

    /// <summary>One embedding's nearest person (for <see cref="TrackNaming.Vote"/>), or null when the gallery is empty.</summary>
    internal GalleryMatch? IdentifyOne(float[] embedding)
    {
        var m = Gallery.Identify(embedding, 1, Threshold.Threshold);
        return m.Count > 0 ? m[0] : null;
    }

    /// <summary>The track's name from its evidence so far, or null when it has too few embeddings or the gallery is empty.</summary>
    internal TrackName? Name(FaceTrack track)
    {
        int n = track.EmbeddingCount;
        if (n < MinEmbeddings) return null;
        if (Naming == TrackNaming.Mean)
        {
            var mean = track.MeanEmbedding!;
            var m = Gallery.Identify(mean, 1, Threshold.Threshold);
            return m.Count == 0 ? null : new TrackName(m[0].Person, m[0].Distance, m[0].IsKnown, n);
        }
        // vote: the person most embeddings name (known); a majority of all the track's embeddings makes it known
        var votes = track.Votes;
        if (votes.Count == 0) return null;
        var best = votes.MaxBy(v => (v.Value.Known, v.Value.Nearest, -v.Value.DistanceSum))!;
        var (person, tally) = (best.Key, best.Value);
        float distance = (float)(tally.DistanceSum / Math.Max(1, tally.Nearest));
        return new TrackName(person, distance, tally.Known * 2 > n, n);
    }
}
