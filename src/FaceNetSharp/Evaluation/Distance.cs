using System.Buffers;
using System.Numerics.Tensors;

namespace FaceNetSharp.Evaluation;

/// <summary>The distance between two embeddings, numbered as facenet's <c>--distance_metric</c>.</summary>
public enum DistanceMetric
{
    /// <summary>
    /// facenet metric 0, "Euclidian distance": the SQUARED euclidean distance <c>sum((a - b)^2)</c>
    /// (facenet.py <c>distance</c>: <c>np.sum(np.square(diff), 1)</c>, no square root). For L2-normalised
    /// embeddings it lies in [0, 4], which is why facenet's threshold grid runs from 0 to 4.
    /// </summary>
    SquaredEuclidean = 0,

    /// <summary>
    /// facenet metric 1, "Distance based on cosine similarity": <c>arccos(a·b / (|a| |b|)) / pi</c>, the angle between
    /// the embeddings as a fraction of pi, in [0, 1].
    /// </summary>
    Cosine = 1,
}

/// <summary>Distances between embeddings as facenet computes them for verification. Thread-safe (no state).</summary>
public static class Distance
{
    /// <summary>
    /// The distance between two embeddings of the same length. Sums are accumulated in single precision and the result
    /// is a single-precision value (widened to double), as facenet's on float32 embeddings; the summation order differs
    /// from numpy's, so the last bits may differ.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, DistanceMetric metric) => metric switch
    {
        DistanceMetric.SquaredEuclidean => SquaredEuclidean(a, b),
        DistanceMetric.Cosine => Cosine(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown distance metric"),
    };

    /// <summary>Squared euclidean distance <c>sum((a - b)^2)</c> (facenet metric 0; no square root).</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double SquaredEuclidean(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embedding lengths differ: {a.Length} vs {b.Length}");
        float[]? rented = null;
        Span<float> diff = a.Length <= 1024 ? stackalloc float[a.Length] : (rented = ArrayPool<float>.Shared.Rent(a.Length)).AsSpan(0, a.Length);
        try
        {
            TensorPrimitives.Subtract(a, b, diff);
            return TensorPrimitives.SumOfSquares<float>(diff);
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Angular distance <c>arccos(cos_sim) / pi</c> in [0, 1] (facenet metric 1). The similarity is clamped to [-1, 1]
    /// before arccos (rounding can push it just past 1, where facenet's numpy would give NaN); a zero vector gives NaN.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embedding lengths differ: {a.Length} vs {b.Length}");
        // facenet: dot / (norm(a) * norm(b)), each in float32.
        float dot = TensorPrimitives.Dot(a, b);
        float norm = TensorPrimitives.Norm(a) * TensorPrimitives.Norm(b);
        double similarity = dot / norm;
        if (double.IsNaN(similarity)) return double.NaN;
        // rounded to float32 like every facenet distance (numpy's arccos of a float32 array is float32)
        return (float)(Math.Acos(Math.Clamp(similarity, -1.0, 1.0)) / Math.PI);
    }

    /// <summary>
    /// Distances of all pairs <c>(embeddings1[i] - mean, embeddings2[i] - mean)</c>; <paramref name="mean"/> null means no
    /// subtraction.
    /// </summary>
    internal static double[] Pairwise(IReadOnlyList<float[]> embeddings1, IReadOnlyList<float[]> embeddings2, DistanceMetric metric, float[]? mean)
    {
        var result = new double[embeddings1.Count];
        if (mean is null)
        {
            for (int i = 0; i < result.Length; i++) result[i] = Compute(embeddings1[i], embeddings2[i], metric);
            return result;
        }
        var a = new float[mean.Length];
        var b = new float[mean.Length];
        for (int i = 0; i < result.Length; i++)
        {
            TensorPrimitives.Subtract(embeddings1[i], mean, a);
            TensorPrimitives.Subtract(embeddings2[i], mean, b);
            result[i] = Compute(a, b, metric);
        }
        return result;
    }

    /// <summary>
    /// Mean of the embeddings of the given pairs, both sides together (facenet calculate_roc with subtract_mean:
    /// <c>np.mean(np.concatenate([embeddings1[train_set], embeddings2[train_set]]), axis=0)</c>). Accumulated in double.
    /// </summary>
    internal static float[] Mean(IReadOnlyList<float[]> embeddings1, IReadOnlyList<float[]> embeddings2, IEnumerable<int> pairIndices)
    {
        int dim = embeddings1[0].Length;
        var sum = new double[dim];
        long count = 0;
        foreach (int i in pairIndices)
        {
            var x = embeddings1[i];
            var y = embeddings2[i];
            for (int d = 0; d < dim; d++) sum[d] += (double)x[d] + y[d];
            count += 2;
        }
        var mean = new float[dim];
        for (int d = 0; d < dim; d++) mean[d] = (float)(sum[d] / count);
        return mean;
    }
}
