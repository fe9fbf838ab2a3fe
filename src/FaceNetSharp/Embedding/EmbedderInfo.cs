using FaceNetSharp.Alignment;

namespace FaceNetSharp.Embedding;

/// <summary>
/// What an embedding model needs and gives: input size and normalisation (<c>(rgb - Mean[c]) * Scale</c>, RGB order),
/// the alignment it was trained on, its output size, the metric and threshold for "same person" (1:1, balanced), and
/// the measured operating points that 1:N identification derives its thresholds from (null where not calibrated).
/// </summary>
public sealed record EmbedderInfo(
    string Name,
    int InputSize,
    float[] Mean,
    float Scale,
    AlignmentTemplate Template,
    int Dimensions,
    EmbeddingMetric Metric,
    float Threshold,
    string? Sha256,
    Recognition.OperatingPointSet? OperatingPoints = null);
