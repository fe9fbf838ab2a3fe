namespace FaceNetSharp;

/// <summary>
/// How two embeddings are compared: an embedder's metric (<see cref="Embedding.EmbedderInfo.Metric"/>, with its
/// threshold), and the metric the gallery, the classifiers and clustering report distances in. Both metrics are
/// functions of the dot product <c>d</c> of two unit vectors and rank neighbours the same way; they differ only in
/// the scale of the distance and so of the threshold. (facenet's LFW protocol has its own metrics, with other
/// formulas: <see cref="Evaluation.DistanceMetric"/>.)
/// </summary>
public enum EmbeddingMetric
{
    /// <summary>
    /// Euclidean (L2, not squared) distance, <c>sqrt(2 - 2d)</c> on unit vectors, in [0, 2]; the distance facenet's
    /// <c>compare.py</c> uses.
    /// </summary>
    Euclidean,

    /// <summary>Cosine distance <c>1 - cos</c> (<c>1 - d</c> on unit vectors), in [0, 2].</summary>
    Cosine,
}

/// <summary>Names of <see cref="EmbeddingMetric"/> as files, the API and the CLI write them.</summary>
public static class EmbeddingMetrics
{
    /// <summary>The metric's name: "cosine" or "euclidean".</summary>
    public static string Name(EmbeddingMetric metric) => metric switch
    {
        EmbeddingMetric.Cosine => "cosine",
        EmbeddingMetric.Euclidean => "euclidean",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric"),
    };

    /// <summary>Parses <see cref="Name"/>'s names (any case); null where <paramref name="name"/> is neither.</summary>
    public static EmbeddingMetric? TryParse(string? name) => name?.ToLowerInvariant() switch
    {
        "cosine" => EmbeddingMetric.Cosine,
        "euclidean" => EmbeddingMetric.Euclidean,
        _ => null,
    };
}
