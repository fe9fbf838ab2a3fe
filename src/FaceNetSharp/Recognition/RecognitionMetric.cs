using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>
/// How recognition measures the distance between two embeddings. Recognition L2-normalises every vector it is given,
/// so both metrics are functions of the dot product <c>d</c> of two unit vectors and rank neighbours the same way;
/// they differ only in the scale of the distance and so of the threshold.
/// </summary>
public enum RecognitionMetric
{
    /// <summary>Cosine distance <c>1 - d</c>, in [0, 2].</summary>
    Cosine,

    /// <summary>
    /// Euclidean (L2, not squared) distance <c>sqrt(2 - 2d)</c>, in [0, 2]; the distance facenet's
    /// <c>compare.py</c> and <c>validate_on_lfw.py</c> (distance_metric 0) use.
    /// </summary>
    Euclidean,
}

/// <summary>
/// The one place that maps the embedders' <see cref="Embedding.EmbeddingMetric"/> onto <see cref="RecognitionMetric"/>.
/// On unit vectors the two agree: <see cref="Embedding.EmbeddingDistance"/> computes 1 - cos and the L2 distance,
/// which recognition computes from the dot product, so an embedder's threshold keeps its meaning here.
/// </summary>
public static class RecognitionMetrics
{
    /// <summary>The recognition metric that measures what <paramref name="metric"/> measures.</summary>
    public static RecognitionMetric From(Embedding.EmbeddingMetric metric) => metric switch
    {
        Embedding.EmbeddingMetric.Cosine => RecognitionMetric.Cosine,
        Embedding.EmbeddingMetric.Euclidean => RecognitionMetric.Euclidean,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };

    /// <summary>The metric's name as files, the API and the CLI write it: "cosine" or "euclidean".</summary>
    public static string Name(RecognitionMetric metric) => VectorMath.ToName(metric);

    /// <summary>The name of the recognition metric that measures what <paramref name="metric"/> measures.</summary>
    public static string Name(Embedding.EmbeddingMetric metric) => Name(From(metric));
}

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
    public static float DistanceFromDot(float dot, RecognitionMetric metric) => metric switch
    {
        RecognitionMetric.Cosine => 1f - dot,
        // Rounding can push 2 - 2d of two equal unit vectors slightly below zero.
        RecognitionMetric.Euclidean => MathF.Sqrt(MathF.Max(0f, 2f - 2f * dot)),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };

    /// <summary>The name the JSON files use for a metric.</summary>
    public static string ToName(RecognitionMetric metric) => metric switch
    {
        RecognitionMetric.Cosine => "cosine",
        RecognitionMetric.Euclidean => "euclidean",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };

    /// <summary>Parses <see cref="ToName"/>'s names; <paramref name="file"/> names the file in the error.</summary>
    public static RecognitionMetric ParseName(string? name, string file) => name switch
    {
        "cosine" => RecognitionMetric.Cosine,
        "euclidean" => RecognitionMetric.Euclidean,
        _ => throw new InvalidDataException($"{file}: unknown metric '{name}' (expected 'cosine' or 'euclidean')"),
    };
}
