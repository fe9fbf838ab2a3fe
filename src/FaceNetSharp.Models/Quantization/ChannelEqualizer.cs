using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// Activation equalization before quantization: for each <c>Conv A → PRelu → Conv B</c> chain (or Relu: a PRelu with slope 0), channel c of the PRelu's
/// output is scaled by 1 / s_c (A's weights and bias of output channel c divided by s_c) and B's weights reading channel
/// c multiplied by s_c. PRelu is positively homogeneous per channel (PRelu(x / s) = PRelu(x) / s for s &gt; 0, its
/// slopes unchanged), so the float32 model computes the same function; but every channel's range now fills the
/// tensor's range, so one uint8 scale per tensor no longer crushes the channels whose range is small.
/// </summary>
/// <remarks>
/// s_c = (r_c / R)^alpha, r_c the channel's largest |value| over the calibration chips and R the largest over the
/// channels. Where B is depthwise, its weights are quantized per channel, so the factor costs B nothing: alpha 1 (full
/// equalization). Where B is a dense Conv, the factor widens the spread of B's weights within each output channel, so
/// alpha 1/2 splits the error between the activation and B's weights (the geometric mean of cross-layer equalization,
/// Nagel et al. 2019). Chains whose tensors have other consumers (residual Adds) are left alone.
/// </remarks>
internal static class ChannelEqualizer
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>Smallest factor: a channel whose range is under 1e-4 of the largest is scaled up 10^4 times at most.</summary>
    private const float MinFactor = 1e-4f;

    /// <summary>One <c>Conv A → PRelu → Conv B</c> chain that can be equalized.</summary>
    internal sealed record Chain(NodeProto A, NodeProto PRelu, NodeProto B, bool Depthwise)
    {
        public string Tensor => PRelu.Output[0];
    }

    /// <summary>The chains of <paramref name="model"/>: A and B with constant 4-d float weights, each intermediate tensor read by one node only.</summary>
    public static List<Chain> Chains(ModelProto model)
    {
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Node)
            foreach (var input in node.Input.Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        var outputs = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        bool ConstWeights(NodeProto conv) => conv.Input.Count >= 2 && inits.TryGetValue(conv.Input[1], out var w) && w.DataType == FloatType
            && w.Dims.Count == 4 && (conv.Input.Count < 3 || conv.Input[2].Length == 0 || inits.ContainsKey(conv.Input[2]));
        long Group(NodeProto conv) => conv.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1;

        var chains = new List<Chain>();
        foreach (var a in model.Graph.Node.Where(n => n.OpType == "Conv" && ConstWeights(n)))
        {
            if (outputs.Contains(a.Output[0]) || consumers.GetValueOrDefault(a.Output[0]) is not [{ OpType: "PRelu" or "Relu" } prelu] || prelu.Input[0] != a.Output[0]) continue;
            if (outputs.Contains(prelu.Output[0]) || consumers.GetValueOrDefault(prelu.Output[0]) is not [{ OpType: "Conv" } b] || b.Input[0] != prelu.Output[0] || !ConstWeights(b)) continue;
            if (prelu.OpType == "PRelu" && (!inits.TryGetValue(prelu.Input[1], out var slope) || slope.DataType != FloatType)) continue;
            long channels = inits[a.Input[1]].Dims[0];
            var bw = inits[b.Input[1]];
            long group = Group(b);
            // depthwise: one input channel per group, any number of outputs per channel
            bool depthwise = group == channels && bw.Dims[0] % channels == 0 && bw.Dims[1] == 1;
            if (!depthwise && !(group == 1 && bw.Dims[1] == channels)) continue;
            chains.Add(new Chain(a, prelu, b, depthwise));
        }
        return chains;
    }

    /// <summary>Largest |value| of each channel (axis 1 of NCHW) of <paramref name="tensors"/> over <paramref name="inputs"/>.</summary>
    public static Dictionary<string, float[]> ChannelMaxAbs(ModelProto fp32, IReadOnlyList<string> tensors, IReadOnlyList<float[]> inputs, long[] inputShape)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var probe = new TensorProbe(fp32, tensors);
        probe.ForEachBatch(inputs, inputShape, (name, shape, values) =>
        {
            int c = (int)shape[1], spatial = (int)(values.Length / (shape[0] * c));
            if (!result.TryGetValue(name, out var max)) result[name] = max = new float[c];
            for (int n = 0; n < shape[0]; n++)
                for (int ch = 0; ch < c; ch++)
                {
                    var plane = values.Slice((n * c + ch) * spatial, spatial);
                    foreach (var v in plane) max[ch] = Math.Max(max[ch], Math.Abs(v));
                }
        });
        return result;
    }

    /// <summary>
    /// The equalized float32 model (a copy; <paramref name="fp32"/> is unchanged) and how many chains were equalized.
    /// <paramref name="channelMaxAbs"/> holds <see cref="ChannelMaxAbs"/> of every chain's tensor.
    /// </summary>
    public static (ModelProto Model, int Chains) Equalize(ModelProto fp32, IReadOnlyDictionary<string, float[]> channelMaxAbs,
        double depthwiseAlpha = 1, double denseAlpha = 0.5)
    {
        var model = fp32.Clone();
        var chains = Chains(model);
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        // Working copies of every weight and bias touched, written back once (a depthwise Conv is B of one chain and A of the next).
        var data = new Dictionary<string, float[]>(StringComparer.Ordinal);
        float[] Data(string name) => data.TryGetValue(name, out var d) ? d : data[name] = OnnxQuantizer.FloatData(inits[name]);
        int done = 0;
        foreach (var chain in chains)
        {
            if (!channelMaxAbs.TryGetValue(chain.Tensor, out var r)) continue;
            float max = r.Max();
            if (!(max > 0) || !float.IsFinite(max)) continue;
            double alpha = chain.Depthwise ? depthwiseAlpha : denseAlpha;
            var s = r.Select(x => x > 0 ? (float)Math.Max(MinFactor, Math.Pow(x / max, alpha)) : 1f).ToArray();

            var wa = Data(chain.A.Input[1]);
            int perA = wa.Length / s.Length;
            for (int c = 0; c < s.Length; c++)
                for (int i = 0; i < perA; i++) wa[c * perA + i] /= s[c];
            if (chain.A.Input.Count >= 3 && chain.A.Input[2].Length > 0)
            {
                var ba = Data(chain.A.Input[2]);
                for (int c = 0; c < s.Length; c++) ba[c] /= s[c];
            }
            var wb = Data(chain.B.Input[1]);
            var dims = inits[chain.B.Input[1]].Dims;
            int kernel = (int)(dims[2] * dims[3]);
            if (chain.Depthwise)
            {
                // output row o reads input channel o / (rows per channel)
                int multiplier = (int)dims[0] / s.Length;
                for (int o = 0; o < dims[0]; o++)
                    for (int i = 0; i < kernel; i++) wb[o * kernel + i] *= s[o / multiplier];
            }
            else
            {
                int cout = (int)dims[0], cin = (int)dims[1];
                for (int o = 0; o < cout; o++)
                    for (int c = 0; c < cin; c++)
                        for (int i = 0; i < kernel; i++) wb[(o * cin + c) * kernel + i] *= s[c];
            }
            done++;
        }
        foreach (var (name, values) in data)
        {
            var t = inits[name];
            t.FloatData.Clear();
            t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        return (model, done);
    }
}
