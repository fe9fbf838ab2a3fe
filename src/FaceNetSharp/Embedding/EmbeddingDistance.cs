using System.Numerics.Tensors;

namespace FaceNetSharp.Embedding;

/// <summary>Distances between embeddings (SIMD through System.Numerics.Tensors).</summary>
public static class EmbeddingDistance
{
    /// <summary>Euclidean distance (not squared), or cosine distance 1 - cos(a, b).</summary>
    public static float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b, EmbeddingMetric metric)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vectors differ in length: {a.Length} and {b.Length}");
        return metric switch
        {
            EmbeddingMetric.Euclidean => TensorPrimitives.Distance(a, b),
            EmbeddingMetric.Cosine => Math.Max(0f, 1f - TensorPrimitives.CosineSimilarity(a, b)), // rounding gives -1e-8 for a vector with itself
            _ => throw new ArgumentOutOfRangeException(nameof(metric)),
        };
    }
}
