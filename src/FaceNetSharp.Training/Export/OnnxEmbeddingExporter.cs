using System.Security.Cryptography;
using FaceNetSharp.IO;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Onnx;
using FaceNetSharp.Training.Networks;

namespace FaceNetSharp.Training.Export;

/// <summary>How training images are standardised (facenet <c>--use_fixed_image_standardization</c>).</summary>
public enum ImageStandardization
{
    /// <summary><c>(x - 127.5) / 128</c> on 0..255 pixels (facenet with <c>--use_fixed_image_standardization</c>; MobileFaceNet's own).</summary>
    Fixed,

    /// <summary>
    /// facenet's <c>prewhiten</c> / <c>tf.image.per_image_standardization</c>: <c>(x - mean) / max(std, 1/sqrt(n))</c>
    /// over the n = 3*H*W values of each image (population std). facenet's default when the flag is absent.
    /// </summary>
    PerImage,
}

/// <summary>What the card of an exported embedder says beyond what the network itself knows.</summary>
/// <param name="Name">Model name written into the card (e.g. the run folder name).</param>
/// <param name="Description">One line on what the model is and how it was trained.</param>
/// <param name="Source">Where the weights come from (<c>facenet train</c>, a .pt file).</param>
/// <param name="SourceVersion">Version of the source: the run name, or the SHA-256 of an imported file.</param>
/// <param name="Licence">Licence of the weights.</param>
/// <param name="Threshold">Cosine-distance (<c>1 - cos</c>) same/different threshold.</param>
/// <param name="ThresholdSource">Where <paramref name="Threshold"/> comes from.</param>
/// <param name="Standardization">The image standardisation the network was trained with.</param>
public sealed record EmbeddingExportInfo(
    string Name,
    string Description,
    string Source,
    string SourceVersion,
    string Licence,
    double Threshold,
    string ThresholdSource,
    ImageStandardization Standardization = ImageStandardization.Fixed);

/// <summary>
/// Exports a TorchSharp <see cref="EmbeddingNetwork"/> as an ONNX embedder (opset <see cref="OnnxGraphBuilder.Opset"/>)
/// with a model card that <c>Embedders.Open(store, "PATH.onnx")</c> accepts.
/// </summary>
/// <remarks>
/// The graph is the network's eval-mode function: batch norm uses the running statistics and is folded into the
/// preceding conv or linear layer; dropout is left out. Input <c>input</c> [N, 3, S, S] float RGB standardised as
/// <c>(x - 127.5) / 128</c> (the card's mean 127.5, scale 1/128); for <see cref="ImageStandardization.PerImage"/>
/// the graph then applies facenet's prewhitening itself, so callers always feed the fixed standardisation.
/// Output <c>embedding</c> [N, D], raw (not normalised: the embedder normalises). Metric cosine.
/// </remarks>
public static class OnnxEmbeddingExporter
{
    /// <summary>
    /// Default cosine-distance threshold written when training ran without a verification set: 0.5, an angle of 60
    /// degrees between embeddings. An uncalibrated round value, flagged as such in the card's threshold_source;
    /// calibrate with <c>facenet validate</c>.
    /// </summary>
    public const double UncalibratedThreshold = 0.5;

    /// <summary>The card's standardisation: <c>value = (pixel - 127.5) * (1/128)</c> (facenet's fixed image standardisation).</summary>
    public const double InputMean = 127.5, InputScale = 1.0 / 128;

    /// <summary>The network as ONNX bytes for square <paramref name="imageSize"/> inputs.</summary>
    public static byte[] ToOnnx(EmbeddingNetwork network, int imageSize, ImageStandardization standardization, string graphName = "facenetsharp_embedder")
    {
        var builder = new OnnxGraphBuilder(graphName);
        var c = new OnnxExportContext(builder);
        var input = builder.Input("input", null, 3, imageSize, imageSize);
        var x = new OnnxValue(input, imageSize, imageSize);
        if (standardization == ImageStandardization.PerImage) x = x with { Name = Prewhiten(c, input, 3L * imageSize * imageSize) };
        var y = network.ExportOnnx(c, x);
        builder.Output(y.Name, "embedding", null, network.EmbeddingSize);
        return builder.ToBytes("FaceNetSharp.Training", new Dictionary<string, string>
        {
            ["architecture"] = network.GetType().Name,
            ["standardization"] = standardization.ToString(),
        });
    }

    /// <summary>
    /// Writes <paramref name="onnxPath"/> and its card <c>NAME.card.json</c> beside it (each atomically, the card last)
    /// and returns the card.
    /// </summary>
    public static ModelCard Write(EmbeddingNetwork network, int imageSize, string onnxPath, EmbeddingExportInfo info)
    {
        var bytes = ToOnnx(network, imageSize, info.Standardization, info.Name);
        AtomicFile.Write(onnxPath, bytes);    // the library's: creates the folder, removes its temporary file on failure
        var card = new ModelCard
        {
            Name = info.Name,
            Description = info.Description,
            SourcePackage = info.Source,
            SourceVersion = info.SourceVersion,
            Licence = info.Licence,
            Files = [],
            InstalledFrom = null,
            Input = new ModelCardInput("input", [null, 3, imageSize, imageSize], "NCHW", "RGB", [InputMean, InputMean, InputMean], InputScale,
                info.Standardization == ImageStandardization.Fixed ? "(x - 127.5) / 128" : "(x - 127.5) / 128, then per-image standardisation inside the graph",
                $"{network.GetType().Name} exported from TorchSharp in eval mode (batch norm folded, no dropout); aligned face chips of {imageSize}x{imageSize}"),
            Outputs = [new ModelCardTensor("embedding", [null, network.EmbeddingSize], "raw embedding (prelogits), not normalised")],
            Metric = "cosine",
            DefaultThreshold = info.Threshold,
            ThresholdSource = info.ThresholdSource,
            OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            ConvertedAt = DateTimeOffset.UtcNow,
            ConverterVersion = "facenetsharp-training-1",
        };
        AtomicFile.Write(Path.ChangeExtension(onnxPath, ".card.json"), card.ToJsonBytes());
        return card;
    }

    // prewhiten on y = (x - 127.5) / 128: (y - mean_y) / max(std_y, 1 / (128 sqrt(n))) equals facenet's
    // (x - mean_x) / max(std_x, 1 / sqrt(n)) exactly (both numerator and denominator scale by 1/128).
    private static string Prewhiten(OnnxExportContext c, string x, long n)
    {
        var b = c.Builder;
        var axes = OnnxGraphBuilder.Ints("axes", 1, 2, 3);
        var mean = b.Node("ReduceMean", [x], null, axes, OnnxGraphBuilder.Int("keepdims", 1)); // N x 1 x 1 x 1
        var d = b.Node("Sub", [x, mean]);
        var variance = b.Node("ReduceMean", [b.Mul(d, d)], null, axes, OnnxGraphBuilder.Int("keepdims", 1));
        var floor = c.Scalar("std_floor", (float)(InputScale / Math.Sqrt(n)));
        var std = b.Node("Max", [b.Node("Sqrt", [variance]), floor]);
        return b.Node("Div", [d, std]);
    }
}
