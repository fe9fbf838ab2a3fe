using FaceNetSharp.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Export;

/// <summary>A tensor of the ONNX graph being written, with its spatial size (needed for TF "SAME" padding).</summary>
/// <param name="Name">The ONNX tensor name.</param>
/// <param name="Height">Height in pixels of an NCHW tensor (0 once flattened).</param>
/// <param name="Width">Width in pixels (0 once flattened).</param>
internal readonly record struct OnnxValue(string Name, long Height, long Width);

/// <summary>
/// What a module needs to write itself into an ONNX graph: the builder, and helpers that copy TorchSharp tensors into
/// initializers and fold an eval-mode batch norm into the preceding conv or linear layer.
/// </summary>
internal sealed class OnnxExportContext(OnnxGraphBuilder builder)
{
    public OnnxGraphBuilder Builder { get; } = builder;

    /// <summary>Adds <paramref name="t"/> (any float tensor) as an initializer of the same shape; returns its name.</summary>
    public string Constant(string prefix, Tensor t)
    {
        using var scope = NewDisposeScope();
        var data = t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        return Builder.Initializer(Builder.Fresh(prefix), data, t.shape);
    }

    /// <summary>A float scalar constant (shape []).</summary>
    public string Scalar(string prefix, float value) => Builder.Initializer(Builder.Fresh(prefix), [value]);

    /// <summary>
    /// Folds an eval-mode batch norm (running statistics) into a conv or linear layer whose output channels are the
    /// first axis of <paramref name="weight"/>: with <c>s = gamma / sqrt(running_var + eps)</c>,
    /// <c>W' = W * s</c> (per output channel) and <c>b' = beta + (b - running_mean) * s</c> (b = 0 without a bias).
    /// Returns the names of the new weight and bias initializers.
    /// </summary>
    public (string Weight, string Bias) FoldBatchNorm(Tensor weight, Tensor? bias, Tensor? gamma, Tensor? beta,
        Tensor runningMean, Tensor runningVar, double eps)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w64 = weight.detach().to_type(ScalarType.Float64);
        var s = (runningVar.to_type(ScalarType.Float64) + eps).rsqrt();                       // C
        if (gamma is not null) s = s * gamma.detach().to_type(ScalarType.Float64);
        var shape = new long[weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var w = w64 * s.reshape(shape);                                                        // C x ...
        var b = bias is null ? zeros_like(s) : bias.detach().to_type(ScalarType.Float64);
        b = (b - runningMean.to_type(ScalarType.Float64)) * s;
        if (beta is not null) b = b + beta.detach().to_type(ScalarType.Float64);
        return (Constant("w", w), Constant("b", b));
    }

    /// <summary>Output size of a conv or pool along one axis.</summary>
    public static long OutputSize(long input, long kernel, long stride, long padBefore, long padAfter) =>
        (input + padBefore + padAfter - kernel) / stride + 1;
}
