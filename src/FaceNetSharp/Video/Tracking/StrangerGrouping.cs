using FaceNetSharp.Recognition;

namespace FaceNetSharp.Video.Tracking;

/// <summary>
/// Groups a video's unknown tracks by look ("these 3 strangers appear"): agglomerative clustering of the tracks' mean
/// embeddings (closest groups first, a group's vector the mean of all its frames), at <c>gallery identify</c>'s
/// operating point for as many comparisons as there are other unknown tracks; two tracks detected in one frame are
/// never in one group, and a track joins a group only on enough evidence (<see cref="HasEvidence"/>).
/// </summary>
/// <remarks>
/// <para>The threshold: each unknown track is in effect identified against the others, so it is held to the rule that
/// names a track against a gallery: the false-positive identification rate <see cref="IdentificationThreshold.DefaultFpir"/>
/// at <c>unknown tracks - 1</c> comparisons (<see cref="OperatingPointSet.ForIdentification"/>); with MobileFaceNet 0.41
/// for 8 unknown tracks (FAR 0.14% per comparison). Without measured operating points, the model's same-person
/// threshold. Before, strangers were grouped by Chinese whispers on the means at the 1:1 same-person threshold (0.59),
/// a threshold made for one comparison, which joined some pair of strangers as soon as there were a few.</para>
/// <para>Measured with MobileFaceNet (TrackNamingMeasurements): distance of the means / mean distance over every pair
/// of the two tracks' frames (average linkage). Different people: on short_hamilton_clip.mp4 Alex Lacamoire at the
/// piano (24 px) and an audience face after the cut, 0.49 / 0.57, one stranger before; in the crowd clip two faces
/// in view together for 95 frames, 0.57 / 0.70, one stranger before, and another pair at 0.58 / 0.74. The same
/// person: Lin-Manuel Miranda's wide shot (33-43 px) and close-up (about 80 px), 0.27 / 0.45. Average linkage at 0.59
/// still joins Alex with the audience face (0.57), and at 0.41 it splits Lin (0.45): the frames of small faces are
/// noisy, which lengthens every average link of a track of them; the means, at the identification threshold, take
/// all four cases right.</para>
/// </remarks>
internal static class StrangerGrouping
{
    /// <summary>
    /// Embedded detections a track needs that are evidence (<see cref="FaceEvidence.IsEvidence"/>) before it may join a group of
    /// strangers; with fewer it is a stranger of its own. The bar a track's name waits for
    /// (<see cref="TrackNamer.DefaultMinEmbeddings"/>): a group says "one person" as a name does. Measured (both clips,
    /// both models, every frame and every 3rd detected, StrangerEvidenceMeasurements): the tracks grouped wrongly had
    /// none, the tracks of one person grouped rightly 4 or more (a 37 px crowd face back after 60 frames, detecting
    /// every 3rd: 4; Lin-Manuel Miranda's 19-frame wide shot: 7).
    /// </summary>
    internal const int MinEvidence = TrackNamer.DefaultMinEmbeddings;

    /// <summary>Whether a track with <paramref name="evidence"/> such detections may join a group.</summary>
    internal static bool HasEvidence(int evidence) => evidence >= MinEvidence;

    /// <summary>
    /// One group number per track (0, 1, ... in the order of each group's first track): groups are merged closest
    /// first while the distance between their mean embeddings is below <paramref name="threshold"/>.
    /// </summary>
    /// <param name="tracks">Each track's sum of unit embeddings (at least one).</param>
    /// <param name="threshold">Distance at or above which two groups stay apart (see <see cref="Threshold"/>).</param>
    /// <param name="metric">The embeddings' metric.</param>
    /// <param name="apart">Pairs of tracks that are two people whatever they look like (e.g. both detected in one
    /// frame): two groups holding such a pair are never merged. Null: none.</param>
    public static int[] Group(IReadOnlyList<double[]> tracks, float threshold, EmbeddingMetric metric, Func<int, int, bool>? apart = null)
    {
        int n = tracks.Count;
        var sums = tracks.Select(t => (double[])t.Clone()).ToArray();
        var root = Enumerable.Range(0, n).ToArray(); // the group each track is in, named by its first track
        var alive = Enumerable.Repeat(true, n).ToArray();
        // cannotLink[a, b]: groups a and b (by their first track) hold two tracks that are apart
        var cannotLink = new bool[n, n];
        if (apart is not null)
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++)
                    cannotLink[a, b] = cannotLink[b, a] = apart(a, b);
        while (true)
        {
            int bestA = -1, bestB = -1;
            float best = threshold;
            for (int a = 0; a < n; a++)
            {
                if (!alive[a]) continue;
                for (int b = a + 1; b < n; b++)
                {
                    if (!alive[b] || cannotLink[a, b]) continue;
                    float d = MeanDistance(sums[a], sums[b], metric);
                    if (d < best) (best, bestA, bestB) = (d, a, b);
                }
            }
            if (bestA < 0) break;
            for (int i = 0; i < sums[bestA].Length; i++) sums[bestA][i] += sums[bestB][i];
            alive[bestB] = false;
            for (int i = 0; i < n; i++) cannotLink[bestA, i] = cannotLink[i, bestA] = cannotLink[bestA, i] || cannotLink[bestB, i];
            for (int i = 0; i < n; i++) if (root[i] == bestB) root[i] = bestA;
        }
        var number = new Dictionary<int, int>();
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            if (!number.TryGetValue(root[i], out int g)) number[root[i]] = g = number.Count;
            labels[i] = g;
        }
        return labels;
    }

    /// <summary>
    /// The threshold for grouping <paramref name="tracks"/> unknown tracks: each is compared with the others, so
    /// gallery identify's default FPIR at <c>tracks - 1</c> comparisons from <paramref name="points"/>, or
    /// <paramref name="sameFace"/> without them.
    /// </summary>
    public static float Threshold(int tracks, OperatingPointSet? points, float sameFace) =>
        points is null ? sameFace
            : points.ForIdentification(IdentificationThreshold.DefaultFpir, IdentificationThreshold.Comparisons(tracks - 1)).Threshold;

    /// <summary>The distance between the mean vectors (normalised) of two groups given by their sums of unit vectors.</summary>
    internal static float MeanDistance(double[] a, double[] b, EmbeddingMetric metric)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        double cos = na > 0 && nb > 0 ? Math.Clamp(dot / Math.Sqrt(na * nb), -1, 1) : 0;
        return metric switch
        {
            EmbeddingMetric.Cosine => (float)(1 - cos),
            EmbeddingMetric.Euclidean => (float)Math.Sqrt(2 - 2 * cos),
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
        };
    }
}
