using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>Vector helpers shared by the gallery, the classifiers and clustering. Pure functions, thread-safe.</summary>
internal static class VectorMath
{
    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> scaled to unit L2 length. Throws when the
    /// vector has the wrong length, a non-finite element or zero length (such a vector has no direction).
    /// </summary>
    public static void NormalizeInto(ReadOnlySpan<float> source, Span<float> destination, int dimensions, string what)
    {
        if (source.Length != dimensions)
            throw new ArgumentException($"{what} has {source.Length} dimensions; expected {dimensions}");
        double sumSq = 0;
        foreach (var v in source)
        {
            if (!float.IsFinite(v)) throw new ArgumentException($"{what} has a non-finite element ({v})");
            sumSq += (double)v * v;
        }
        if (sumSq == 0) throw new ArgumentException($"{what} is all zeros and cannot be normalised");
        TensorPrimitives.Multiply(source, (float)(1.0 / Math.Sqrt(sumSq)), destination);
    }

    /// <summary>A unit-length copy of <paramref name="source"/> (see <see cref="NormalizeInto"/>).</summary>
    public static float[] Normalized(ReadOnlySpan<float> source, int dimensions, string what)
    {
        var result = new float[dimensions];
        NormalizeInto(source, result, dimensions, what);
        return result;
    }

    /// <summary>The distance between two unit vectors whose dot product is <paramref name="dot"/>.</summary>
    public static float DistanceFromDot(float dot, EmbeddingMetric metric) => metric switch
    {
        EmbeddingMetric.Cosine => 1f - dot,
        // Rounding can push 2 - 2d of two equal unit vectors slightly below zero.
        EmbeddingMetric.Euclidean => MathF.Sqrt(MathF.Max(0f, 2f - 2f * dot)),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };
}
