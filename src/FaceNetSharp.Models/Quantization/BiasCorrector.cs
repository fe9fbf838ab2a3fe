using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// Empirical bias correction (Nagel, van Baalen, Blankevoort, Welling 2019, "Data-Free Quantization Through Weight
/// Equalization and Bias Correction", ICCV, section 4.2): quantizing a Conv's weights and input shifts the mean of its
/// output channels (E[W̃x̃] ≠ E[Wx]), and the shifts add up layer after layer. Here the shift each Conv adds is
/// measured on the calibration inputs, per output channel: the mean (over batch and space) of the QDQ model's Conv
/// output before its QuantizeLinear, minus that of a float32 twin of the Conv reading the same, not yet quantized,
/// input tensor of the QDQ model; it is subtracted from the Conv's float bias, which <see cref="OnnxQuantizer.Quantize"/>
/// then quantizes. All Convs are corrected at once and the measurement is repeated <c>iterations</c> times, since a
/// correction moves the inputs of the layers after it (the paper corrects layer by layer, one pass per layer).
/// </summary>
internal static class BiasCorrector
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>
    /// <paramref name="fp32"/> with every quantized Conv's bias corrected (a copy; a Conv without a bias gets one), and
    /// the mean |shift| over channels and Convs before and after, each measured on <paramref name="inputs"/>.
    /// <paramref name="ranges"/> are the activation ranges <see cref="OnnxQuantizer.Quantize"/> gets (measured on the
    /// uncorrected model; the corrections are small against them).
    /// </summary>
    public static (ModelProto Model, double ShiftBefore, double ShiftAfter) Correct(ModelProto fp32,
        IReadOnlyDictionary<string, ActivationRange> ranges, IReadOnlyList<float[]> inputs, long[] inputShape,
        int iterations, IReadOnlySet<string>? floatConvs = null)
    {
        var model = fp32.Clone();
        var convs = OnnxQuantizer.QuantizableConvs(model, floatConvs);
        var outputs = convs.Select(c => c.Output[0]).ToList();
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        var bias = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var conv in convs)
        {
            int cout = (int)inits[conv.Input[1]].Dims[0];
            if (conv.Input.Count < 3 || conv.Input[2].Length == 0)
            {
                var name = conv.Output[0] + "_corrected_bias";
                var t = new TensorProto { Name = name, DataType = FloatType, RawData = ByteString.CopyFrom(new byte[4 * cout]) };
                t.Dims.Add(cout);
                model.Graph.Initializer.Add(t);
                inits[name] = t;
                while (conv.Input.Count < 3) conv.Input.Add("");
                conv.Input[2] = name;
            }
            else if (inits[conv.Input[2]] is var shared && model.Graph.Node.Count(n => n.Input.Contains(conv.Input[2])) > 1)
            {
                // a bias shared by two Convs gets a copy of its own, since each is corrected by its own shift
                var name = conv.Output[0] + "_corrected_bias";
                var t = shared.Clone();
                t.Name = name;
                model.Graph.Initializer.Add(t);
                inits[name] = t;
                conv.Input[2] = name;
            }
            bias[conv.Output[0]] = OnnxQuantizer.FloatData(inits[conv.Input[2]]);
        }

        // the float weights and biases each Conv is held to (its twin, below)
        var original = convs.ToDictionary(c => c.Output[0], c => (W: inits[c.Input[1]].Clone(), B: inits[c.Input[2]].Clone()), StringComparer.Ordinal);
        double before = double.NaN, after = double.NaN;
        for (int k = 0; k <= iterations; k++)
        {
            var quantized = OnnxQuantizer.Quantize(model, ranges, floatConvs);
            var probes = AddTwins(quantized, original);
            var measured = ChannelMeans(quantized, [.. outputs, .. probes], inputs, inputShape, optimize: false);
            double sum = 0;
            long count = 0;
            foreach (var conv in convs)
            {
                var name = conv.Output[0];
                var (q, f, b) = (measured[name], measured[TwinOf(name)], bias[name]);
                for (int c = 0; c < b.Length; c++)
                {
                    double shift = q[c] - f[c];
                    sum += Math.Abs(shift);
                    count++;
                    if (k < iterations) b[c] -= (float)shift;
                }
            }
            if (k == 0) before = sum / count;
            after = sum / count;
            if (k == iterations) break;
            foreach (var conv in convs)
            {
                var t = inits[conv.Input[2]];
                t.FloatData.Clear();
                t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(bias[conv.Output[0]].AsSpan()));
            }
        }
        return (model, before, after);
    }

    private static string TwinOf(string convOutput) => convOutput + "_float_twin";

    /// <summary>
    /// Adds to the QDQ graph, beside each quantized Conv of <paramref name="original"/> (by output name), its float32
    /// twin: the same Conv with the original float weights and bias, reading the tensor the quantized Conv's input was
    /// quantized from. Their difference is the shift that Conv itself adds (its weights' and its input's quantization),
    /// given the inputs the quantized layers before it produce; the shift an earlier layer causes is corrected there
    /// (correcting the whole difference to the float32 model at every layer would count it twice). Returns the twins' outputs.
    /// </summary>
    private static List<string> AddTwins(ModelProto quantized, Dictionary<string, (TensorProto W, TensorProto B)> original)
    {
        var graph = quantized.Graph;
        var twins = new List<NodeProto>();
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv" && original.ContainsKey(n.Output[0])))
        {
            var (w, b) = original[conv.Output[0]];
            var twin = conv.Clone();
            twin.Name = TwinOf(conv.Output[0]) + "_node";
            twin.Output[0] = TwinOf(conv.Output[0]);
            var x = conv.Input[0];
            twin.Input[0] = x.EndsWith("_dq", StringComparison.Ordinal) ? x[..^3] : x;
            var wt = w.Clone();
            wt.Name = twin.Output[0] + "_weights";
            var bt = b.Clone();
            bt.Name = twin.Output[0] + "_bias";
            graph.Initializer.Add(wt);
            graph.Initializer.Add(bt);
            twin.Input[1] = wt.Name;
            twin.Input[2] = bt.Name;
            twins.Add(twin);
        }
        // appended after every node: the graph stays topologically sorted
        graph.Node.AddRange(twins);
        return [.. twins.Select(t => t.Output[0])];
    }

    /// <summary>
    /// Mean of each channel (axis 1 of NCHW) of <paramref name="tensors"/> over <paramref name="inputs"/>. Without
    /// <paramref name="optimize"/>, ONNX Runtime runs the QDQ graph as written (DequantizeLinear, float Conv,
    /// QuantizeLinear), which computes what its fused QLinearConv does up to float rounding, and keeps every Conv's
    /// output readable.
    /// </summary>
    internal static Dictionary<string, double[]> ChannelMeans(ModelProto model, IReadOnlyList<string> tensors,
        IReadOnlyList<float[]> inputs, long[] inputShape, bool optimize)
    {
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var spatial = new Dictionary<string, long>(StringComparer.Ordinal);
        using var probe = new TensorProbe(model, tensors, optimize);
        probe.ForEachBatch(inputs, inputShape, (name, shape, values) =>
        {
            int c = (int)shape[1], plane = (int)(values.Length / (shape[0] * c));
            if (!sums.TryGetValue(name, out var s)) sums[name] = s = new double[c];
            spatial[name] = plane;
            for (int n = 0; n < shape[0]; n++)
                for (int ch = 0; ch < c; ch++)
                {
                    double acc = 0;
                    foreach (var v in values.Slice((n * c + ch) * plane, plane)) acc += v;
                    s[ch] += acc;
                }
        });
        long images = inputs.Count;
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v / (images * spatial[kv.Key])).ToArray(), StringComparer.Ordinal);
    }
}
