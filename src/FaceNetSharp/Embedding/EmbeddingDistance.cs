using System.Numerics.Tensors;

namespace FaceNetSharp.Embedding;

/// <summary>Distances between embeddings (SIMD through System.Numerics.Tensors).</summary>
public static class EmbeddingDistance
{
    /// <summary>
    /// Euclidean distance (not squared), or cosine distance 1 - cos(a, b). Never NaN: vectors holding NaN or infinity,
    /// or a zero vector under the cosine metric, are an <see cref="ArgumentException"/>.
    /// </summary>
    public static float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, EmbeddingMetric metric)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vectors differ in length: {a.Length} and {b.Length}");
        float distance = metric switch
        {
            EmbeddingMetric.Euclidean => TensorPrimitives.Distance(a, b),
            EmbeddingMetric.Cosine => 1f - TensorPrimitives.CosineSimilarity(a, b),
            _ => throw new ArgumentOutOfRangeException(nameof(metric)),
        };
        if (!float.IsFinite(distance))
            throw new ArgumentException("no distance between these vectors: one holds NaN or infinity, or is all zeros");
        return Math.Max(0f, distance); // rounding gives -1e-8 for a vector with itself
    }
}
