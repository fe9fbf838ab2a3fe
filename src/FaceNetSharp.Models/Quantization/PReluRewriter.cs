using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// Rewrites each <c>Conv A → PRelu → Conv B</c> chain whose B is a dense Conv (group 1) with ReLUs only, in float32:
/// <c>PRelu(z) = Relu(z) − a ∘ Relu(−z)</c> per channel, so <c>B(PRelu(z)) = B′([Relu(z), Relu(−z)])</c> where A′ computes
/// <c>z</c> and <c>−z</c> (A's output channels doubled, channel 2c = z_c, 2c+1 = −z_c), one <c>Relu</c> follows, and B′
/// reads both (B's input channels doubled: weight w on channel 2c, −a_c w on 2c+1). This is the concatenated ReLU of
/// Shang et al. 2016 ("Understanding and Improving Convolutional Neural Networks via Concatenated Rectified Linear
/// Units", ICML) followed by a linear layer, which represents any PRelu exactly.
/// </summary>
/// <remarks>
/// Why: <see cref="OnnxQuantizer"/> otherwise splits each PRelu into three quantized Convs and two QLinearAdds, so one
/// PRelu costs four uint8 roundings (z, a⁺ ∘ z, their partial sum, the PRelu's output); measured on MobileFaceNet v2
/// (bench int8-sweep --activations, 130 faces), the branches and partial sums alone held a quarter of the int8 loss.
/// Here the chain has one rounding, at the Relu's output (the Relu folds into its Q, zero point 0), and the rounding of
/// the negative half reaches B scaled by |a_c|. Cost: A's and B's multiply-adds doubled, against A's tripled by the
/// split. B depthwise is left alone (its doubled input would make it a grouped Conv with two inputs per group, which
/// has no fast int8 kernel), so those chains keep the split.
/// </remarks>
internal static class PReluRewriter
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>The rewritten model (a copy; <paramref name="fp32"/> is unchanged) and how many chains were rewritten.</summary>
    public static (ModelProto Model, int Rewritten) Rewrite(ModelProto fp32)
    {
        var model = fp32.Clone();
        var graph = model.Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var uses = graph.Node.SelectMany(n => n.Input).GroupBy(i => i, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        // working copies of every weight and bias touched (a Conv can be B of one chain and A of the next)
        var data = new Dictionary<string, (float[] Values, long[] Dims)>(StringComparer.Ordinal);
        (float[] Values, long[] Dims) Data(string name) =>
            data.TryGetValue(name, out var d) ? d : data[name] = (OnnxQuantizer.FloatData(inits[name]), inits[name].Dims.ToArray());
        bool Own(NodeProto conv) => conv.Input.Skip(1).Where(i => i.Length > 0).All(i => uses.GetValueOrDefault(i) == 1);

        var changed = new HashSet<string>(StringComparer.Ordinal);
        int done = 0;
        foreach (var chain in ChannelEqualizer.Chains(model).Where(c => c.PRelu.OpType == "PRelu" && !c.Depthwise))
        {
            if (!Own(chain.A) || !Own(chain.B) || uses.GetValueOrDefault(chain.PRelu.Input[1]) != 1) continue;
            var slope = OnnxQuantizer.FloatData(inits[chain.PRelu.Input[1]]);
            var (wa, da) = Data(chain.A.Input[1]);
            int channels = (int)da[0];
            if (slope.Length != channels || !slope.All(float.IsFinite)) continue;

            // A: output channel c becomes 2c (z_c) and 2c+1 (−z_c)
            data[chain.A.Input[1]] = (Interleave(wa, channels), [2 * da[0], .. da[1..]]);
            if (chain.A.Input.Count >= 3 && chain.A.Input[2].Length > 0)
            {
                var (ba, dba) = Data(chain.A.Input[2]);
                data[chain.A.Input[2]] = (Interleave(ba, channels), [2 * dba[0]]);
            }
            // B: input channel c becomes 2c (weight w) and 2c+1 (weight −a_c w)
            var (wb, db) = Data(chain.B.Input[1]);
            int rows = (int)db[0], kernel = (int)(db[2] * db[3]);
            var wb2 = new float[wb.Length * 2];
            for (int o = 0; o < rows; o++)
                for (int c = 0; c < channels; c++)
                    for (int k = 0; k < kernel; k++)
                    {
                        float w = wb[(o * channels + c) * kernel + k];
                        wb2[(o * 2 * channels + 2 * c) * kernel + k] = w;
                        wb2[(o * 2 * channels + 2 * c + 1) * kernel + k] = -slope[c] * w;
                    }
            data[chain.B.Input[1]] = (wb2, [db[0], 2 * db[1], db[2], db[3]]);

            var relu = new NodeProto { OpType = "Relu", Name = chain.PRelu.Name + "_as_relu", Input = { chain.A.Output[0] }, Output = { chain.PRelu.Output[0] } };
            int at = graph.Node.IndexOf(chain.PRelu);
            graph.Node[at] = relu;
            changed.Add(chain.A.Output[0]);
            changed.Add(chain.PRelu.Output[0]);
            done++;
        }
        foreach (var (name, (values, dims)) in data)
        {
            var t = inits[name];
            t.FloatData.Clear();
            t.Dims.Clear();
            t.Dims.AddRange(dims);
            t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        // the doubled tensors' declared shapes no longer hold; ONNX Runtime infers them again
        foreach (var info in graph.ValueInfo.Where(v => changed.Contains(v.Name)).ToList()) graph.ValueInfo.Remove(info);
        // slopes no longer read
        var read = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var t in graph.Initializer.Where(t => !read.Contains(t.Name)).ToList()) graph.Initializer.Remove(t);
        return (model, done);
    }

    /// <summary>Rows (axis 0) of <paramref name="values"/> as row c, −row c for each c.</summary>
    private static float[] Interleave(float[] values, int rows)
    {
        int per = values.Length / rows;
        var result = new float[values.Length * 2];
        for (int c = 0; c < rows; c++)
            for (int i = 0; i < per; i++)
            {
                result[2 * c * per + i] = values[c * per + i];
                result[(2 * c + 1) * per + i] = -values[c * per + i];
            }
        return result;
    }
}
