using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>
/// Groups face embeddings by person without knowing who is who: Chinese whispers (as facenet's
/// <c>contributed/clustering.py</c> and dlib's <c>chinese_whispers</c>) and DBSCAN. Both work on the distances
/// between L2-normalised copies of the vectors and return one label per item; labels are numbered 0, 1, 2, ... in
/// the order their first item appears, and -1 is noise (DBSCAN, or <see cref="MarkSmallClustersAsNoise"/>).
/// </summary>
/// <remarks>
/// Exact O(n² · dims) pairwise distances; memory grows with the number of pairs closer than the threshold.
/// Thread-safe (pure functions); deterministic for a given input and seed.
/// </remarks>
public static class Clustering
{
    /// <summary>The label of an item that belongs to no cluster.</summary>
    public const int Noise = -1;

    /// <summary>
    /// facenet's clustering.py runs 20 iterations of Chinese whispers (<c>_chinese_whispers(..., iterations=20)</c>);
    /// labels on face graphs settle within a few.
    /// </summary>
    public const int DefaultWhispersIterations = 20;

    /// <summary>
    /// Chinese whispers label propagation (Biemann 2006) on the graph that joins two faces when their distance is
    /// below <paramref name="threshold"/>. Every face starts as its own cluster; each iteration visits all faces in
    /// a fresh random order (seeded) and gives each the label carried by most of its neighbours, as facenet's
    /// clustering.py does. As in dlib's face-clustering example and <c>chinese_whispers</c>, edges are unweighted,
    /// every face counts as its own neighbour (the i == j edge), and a tie goes to the smallest label (dlib walks
    /// its label counts in a std::map, in label order, and keeps the first best).
    /// </summary>
    /// <param name="vectors">The embeddings, all the same length (normalised here).</param>
    /// <param name="threshold">Distance below which two faces are joined, in <paramref name="metric"/>'s units (dlib uses 0.6 euclidean for its ResNet model).</param>
    /// <param name="metric">The distance metric.</param>
    /// <param name="iterations">Passes over all faces.</param>
    /// <param name="seed">Seeds the visiting order; the same seed gives the same labels.</param>
    /// <returns>A label per vector, numbered from 0 in order of first appearance (no noise).</returns>
    public static int[] ChineseWhispers(IReadOnlyList<float[]> vectors, float threshold,
        EmbeddingMetric metric = EmbeddingMetric.Euclidean, int iterations = DefaultWhispersIterations, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        var neighbours = Neighbourhoods(vectors, threshold, metric, inclusive: false);
        int n = neighbours.Length;
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i;

        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var random = new Random(seed);
        var votes = new Dictionary<int, int>();
        for (int it = 0; it < iterations; it++)
        {
            random.Shuffle(order);
            bool changed = false;
            foreach (int node in order)
            {
                votes.Clear();
                foreach (int m in neighbours[node]) votes[labels[m]] = votes.GetValueOrDefault(labels[m]) + 1;
                int bestLabel = labels[node], bestVotes = 0;
                foreach (var (label, count) in votes)
                {
                    if (count > bestVotes || (count == bestVotes && label < bestLabel))
                    {
                        bestLabel = label;
                        bestVotes = count;
                    }
                }
                if (bestLabel != labels[node])
                {
                    labels[node] = bestLabel;
                    changed = true;
                }
            }
            if (!changed) break; // a fixed point: further passes change nothing
        }
        return Renumber(labels);
    }

    /// <summary>
    /// DBSCAN (Ester et al. 1996) with the conventions of scikit-learn's <c>DBSCAN</c>: a face is a core point
    /// when at least <paramref name="minPoints"/> faces, itself included, lie within distance
    /// <paramref name="eps"/> (inclusive); clusters grow from core points in index order; faces reachable from no
    /// core point are noise (-1).
    /// </summary>
    /// <param name="vectors">The embeddings, all the same length (normalised here).</param>
    /// <param name="eps">The neighbourhood radius, in <paramref name="metric"/>'s units.</param>
    /// <param name="minPoints">The size a neighbourhood (itself included) needs for a core point (at least 1).</param>
    /// <param name="metric">The distance metric.</param>
    /// <returns>A label per vector: clusters numbered from 0 in order of discovery, -1 for noise.</returns>
    public static int[] Dbscan(IReadOnlyList<float[]> vectors, float eps, int minPoints,
        EmbeddingMetric metric = EmbeddingMetric.Euclidean)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minPoints);
        var neighbours = Neighbourhoods(vectors, eps, metric, inclusive: true);
        int n = neighbours.Length;
        var labels = new int[n];
        Array.Fill(labels, Noise);
        var visited = new bool[n];
        int cluster = 0;
        var queue = new Queue<int>();
        for (int i = 0; i < n; i++)
        {
            if (visited[i]) continue;
            visited[i] = true;
            if (neighbours[i].Count < minPoints) continue; // noise unless a later core point reaches it
            labels[i] = cluster;
            foreach (int j in neighbours[i]) queue.Enqueue(j);
            while (queue.TryDequeue(out int j))
            {
                if (labels[j] == Noise) labels[j] = cluster; // border or core point joins
                if (visited[j]) continue;
                visited[j] = true;
                if (neighbours[j].Count >= minPoints)
                    foreach (int k in neighbours[j])
                        if (!visited[k] || labels[k] == Noise) queue.Enqueue(k);
            }
            cluster++;
        }
        return labels;
    }

    /// <summary>
    /// A copy of <paramref name="labels"/> in which clusters with fewer than <paramref name="minSize"/> members are
    /// noise (-1), and the remaining clusters are renumbered from 0 in order of first appearance.
    /// </summary>
    public static int[] MarkSmallClustersAsNoise(IReadOnlyList<int> labels, int minSize)
    {
        var sizes = new Dictionary<int, int>();
        foreach (int l in labels) if (l != Noise) sizes[l] = sizes.GetValueOrDefault(l) + 1;
        var result = new int[labels.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = labels[i] != Noise && sizes[labels[i]] >= minSize ? labels[i] : Noise;
        return Renumber(result);
    }

    /// <summary>Renumbers labels 0, 1, ... in order of first appearance, keeping -1.</summary>
    private static int[] Renumber(int[] labels)
    {
        var map = new Dictionary<int, int>();
        var result = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == Noise) { result[i] = Noise; continue; }
            if (!map.TryGetValue(labels[i], out int l)) map[labels[i]] = l = map.Count;
            result[i] = l;
        }
        return result;
    }

    /// <summary>
    /// For each vector, the indices of the vectors (itself included) within <paramref name="radius"/>: distance
    /// below it, or at most it when <paramref name="inclusive"/>.
    /// </summary>
    private static List<int>[] Neighbourhoods(IReadOnlyList<float[]> vectors, float radius, EmbeddingMetric metric, bool inclusive)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (!float.IsFinite(radius) || radius < 0) throw new ArgumentOutOfRangeException(nameof(radius), radius, "must be finite and non-negative");
        int n = vectors.Count;
        var result = new List<int>[n];
        if (n == 0) return result;
        int dims = vectors[0]?.Length ?? throw new ArgumentException("vector 0 is null", nameof(vectors));
        var units = new float[n * dims];
        for (int i = 0; i < n; i++)
            VectorMath.NormalizeInto(vectors[i] ?? throw new ArgumentException($"vector {i} is null", nameof(vectors)),
                units.AsSpan(i * dims, dims), dims, $"vector {i}");
        for (int i = 0; i < n; i++) result[i] = [i];
        for (int i = 0; i < n; i++)
        {
            var a = units.AsSpan(i * dims, dims);
            for (int j = i + 1; j < n; j++)
            {
                float d = VectorMath.DistanceFromDot(TensorPrimitives.Dot(a, units.AsSpan(j * dims, dims)), metric);
                if (inclusive ? d <= radius : d < radius)
                {
                    result[i].Add(j);
                    result[j].Add(i);
                }
            }
        }
        return result;
    }
}

/// <summary>
/// Pairwise scores of a clustering against the true identities: over all pairs of items, a pair is a true positive
/// when both the clustering and the truth put the two items together.
/// </summary>
/// <param name="Precision">Of the pairs clustered together, the fraction that are the same person (1 when no pair is clustered together).</param>
/// <param name="Recall">Of the pairs that are the same person, the fraction clustered together (1 when no two items share a person).</param>
/// <param name="F1">The harmonic mean of precision and recall (0 when both are 0).</param>
/// <param name="ClusterCount">How many clusters the clustering has, noise not counted.</param>
/// <param name="TruePositivePairs">Pairs together in both.</param>
/// <param name="PredictedPairs">Pairs together in the clustering.</param>
/// <param name="TruePairs">Pairs together in the truth.</param>
public sealed record PairwiseScores(
    double Precision, double Recall, double F1, int ClusterCount,
    long TruePositivePairs, long PredictedPairs, long TruePairs)
{
    /// <summary>
    /// Scores <paramref name="predicted"/> against <paramref name="truth"/>. A noise item (-1) is a cluster of its
    /// own: it is paired with nobody. Counts come from the contingency table (pairs = n(n-1)/2 per cell), so this
    /// is O(items), not O(items²).
    /// </summary>
    public static PairwiseScores Compute<TLabel>(IReadOnlyList<int> predicted, IReadOnlyList<TLabel> truth)
        where TLabel : notnull
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        if (predicted.Count != truth.Count)
            throw new ArgumentException($"{predicted.Count} predicted labels but {truth.Count} true labels");

        var cells = new Dictionary<(int, TLabel), long>();
        var clusterSizes = new Dictionary<int, long>();
        var truthSizes = new Dictionary<TLabel, long>();
        for (int i = 0; i < predicted.Count; i++)
        {
            truthSizes[truth[i]] = truthSizes.GetValueOrDefault(truth[i]) + 1;
            if (predicted[i] == Clustering.Noise) continue;
            clusterSizes[predicted[i]] = clusterSizes.GetValueOrDefault(predicted[i]) + 1;
            cells[(predicted[i], truth[i])] = cells.GetValueOrDefault((predicted[i], truth[i])) + 1;
        }
        static long Pairs(long n) => n * (n - 1) / 2;
        long tp = cells.Values.Sum(Pairs);
        long predictedPairs = clusterSizes.Values.Sum(Pairs);
        long truePairs = truthSizes.Values.Sum(Pairs);
        double precision = predictedPairs == 0 ? 1 : (double)tp / predictedPairs;
        double recall = truePairs == 0 ? 1 : (double)tp / truePairs;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new PairwiseScores(precision, recall, f1, clusterSizes.Count, tp, predictedPairs, truePairs);
    }
}
