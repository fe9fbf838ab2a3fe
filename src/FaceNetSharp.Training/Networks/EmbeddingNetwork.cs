using FaceNetSharp.Training.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Networks;

/// <summary>
/// A face embedding network: maps a batch of images [N, 3, H, W] (float, channels RGB, already standardised as the
/// network expects) to pre-normalisation embeddings ("prelogits" in facenet) [N, <see cref="EmbeddingSize"/>].
/// Callers L2-normalise for comparison; the center loss and facenet's prelogits norm loss work on the raw output.
/// </summary>
public abstract class EmbeddingNetwork(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>Width of the output.</summary>
    public abstract int EmbeddingSize { get; }

    /// <summary>The square input size the network was designed for (pixels).</summary>
    public abstract int InputSize { get; }

    /// <summary>
    /// Writes the eval-mode network into an ONNX graph, from the [N, 3, H, W] input <paramref name="input"/> to the
    /// [N, EmbeddingSize] output (batch norm folded into the convs, dropout left out). Used by <see cref="OnnxEmbeddingExporter"/>.
    /// </summary>
    internal abstract OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input);

    /// <summary>L2-normalises rows: facenet's <c>tf.nn.l2_normalize(prelogits, 1, 1e-10)</c>.</summary>
    public static Tensor L2Normalize(Tensor prelogits)
    {
        using var scope = NewDisposeScope();
        // tf.nn.l2_normalize: x / sqrt(max(sum(x^2), epsilon)), epsilon 1e-10 in facenet's call.
        var norm = prelogits.square().sum(1, keepdim: true).clamp_min(1e-10).sqrt();
        return (prelogits / norm).MoveToOuterDisposeScope();
    }
}

/// <summary>TensorFlow's "SAME" padding, which is asymmetric (extra pixel after) when the total is odd.</summary>
public static class TfSamePadding
{
    /// <summary>
    /// Padding before and after along one axis for TF "SAME": output = ceil(in / stride),
    /// total = max((output - 1) * stride + kernel - in, 0), before = total / 2, after = total - before.
    /// E.g. a 3x3 stride-2 conv on 112 pixels: total 1, so 0 before and 1 after (symmetric padding of 1 would
    /// shift every output pixel by one input pixel, see MODELS.md on MobileFaceNet).
    /// </summary>
    public static (long Before, long After) Compute(long input, long kernel, long stride)
    {
        long output = (input + stride - 1) / stride;
        long total = Math.Max((output - 1) * stride + kernel - input, 0);
        return (total / 2, total - total / 2);
    }
}
