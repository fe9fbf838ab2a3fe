using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// Channel equalization of residual streams, which <see cref="ChannelEqualizer"/> leaves alone: the tensors joined by
/// <c>Add</c>s (a stage of MobileFaceNet's linear bottlenecks: each block's projecting Conv, the Adds, and the first
/// block's output) carry one set of channels, so channel c of all of them can be divided by one factor s_c when every
/// Conv that writes into the stream has its output channel c (weights and bias) divided by s_c and every Conv that
/// reads from it has its input channel c multiplied by s_c. The stream has no nonlinearity, so the float32 function
/// is unchanged; the per-tensor uint8 ranges then fit every channel, as they do after <see cref="ChannelEqualizer"/>.
/// This is cross-layer equalization (Nagel et al. 2019) with the factors shared over the residual stream, as Meller
/// et al. 2019 ("Same, Same But Different: Recovering Neural Network Quantization Error Through Weight
/// Factorization", ICML) do for residual networks.
/// </summary>
internal static class ResidualEqualizer
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>One residual stream: its tensors, the Convs writing them and the Convs reading them.</summary>
    internal sealed record Stream(IReadOnlyList<string> Tensors, IReadOnlyList<NodeProto> Writers, IReadOnlyList<NodeProto> Readers);

    /// <summary>
    /// The streams of <paramref name="model"/>: sets of tensors joined by two-input Adds, each written by a Conv with
    /// constant weights or by one of the Adds, and read only by the Adds and by group-1 Convs with constant weights
    /// (as their input); none is a graph output. Other sets are left out.
    /// </summary>
    public static List<Stream> Streams(ModelProto model)
    {
        var graph = model.Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var o in node.Output) producer[o] = node;
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var input in node.Input.Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);

        // union-find over tensors, joined by Adds
        var parent = new Dictionary<string, string>(StringComparer.Ordinal);
        string Find(string x)
        {
            while (parent.TryGetValue(x, out var p) && p != x) x = parent[x] = parent.GetValueOrDefault(p, p);
            return x;
        }
        void Union(string a, string b)
        {
            parent.TryAdd(a, a);
            parent.TryAdd(b, b);
            string ra = Find(a), rb = Find(b);
            if (ra != rb) parent[ra] = rb;
        }
        var adds = graph.Node.Where(n => n.OpType == "Add" && n.Input.Count == 2 && n.Input.All(i => !inits.ContainsKey(i))).ToList();
        foreach (var add in adds)
        {
            Union(add.Input[0], add.Output[0]);
            Union(add.Input[1], add.Output[0]);
        }
        var addSet = adds.ToHashSet(ReferenceEqualityComparer.Instance);
        bool ConstConv(NodeProto n) => n.OpType == "Conv" && n.Input.Count >= 2 && inits.TryGetValue(n.Input[1], out var w)
            && w.DataType == FloatType && w.Dims.Count == 4 && (n.Input.Count < 3 || n.Input[2].Length == 0 || inits.ContainsKey(n.Input[2]));
        long Group(NodeProto conv) => conv.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1;

        var streams = new List<Stream>();
        foreach (var set in parent.Keys.GroupBy(Find))
        {
            var tensors = set.ToList();
            var writers = new List<NodeProto>();
            var readers = new List<NodeProto>();
            bool ok = true;
            foreach (var t in tensors)
            {
                if (outputs.Contains(t) || !producer.TryGetValue(t, out var p)) { ok = false; break; }
                if (ConstConv(p)) writers.Add(p);
                else if (!addSet.Contains(p)) { ok = false; break; }
                foreach (var c in consumers.GetValueOrDefault(t) ?? [])
                {
                    if (addSet.Contains(c)) continue;
                    if (ConstConv(c) && Group(c) == 1 && c.Input[0] == t && !readers.Contains(c)) readers.Add(c);
                    else if (!(ConstConv(c) && Group(c) == 1 && c.Input[0] == t)) { ok = false; break; }
                }
                if (!ok) break;
            }
            // a weight shared with a Conv outside the stream would be scaled for both
            var touched = writers.Concat(readers).SelectMany(n => n.Input.Skip(1)).Where(i => i.Length > 0).ToList();
            if (ok && writers.Count > 0 && readers.Count > 0 && touched.Count == touched.Distinct().Count()
                && graph.Node.Where(n => !writers.Contains(n) && !readers.Contains(n)).All(n => !n.Input.Any(touched.Contains)))
                streams.Add(new Stream(tensors, writers, readers));
        }
        return streams;
    }

    /// <summary>
    /// The equalized model (a copy) and how many streams were equalized: s_c = (r_c / R)^<paramref name="alpha"/>, r_c
    /// the largest |value| of channel c over the stream's tensors (<paramref name="channelMaxAbs"/>, from
    /// <see cref="ChannelEqualizer.ChannelMaxAbs"/>), R the largest over the channels. The writers are quantized per
    /// output channel, so dividing their rows costs them nothing; the readers are dense, so alpha 1/2 splits the error
    /// between the stream and their weights, as <see cref="ChannelEqualizer"/> does before a dense Conv.
    /// </summary>
    public static (ModelProto Model, int Streams) Equalize(ModelProto fp32, IReadOnlyDictionary<string, float[]> channelMaxAbs, double alpha)
    {
        var model = fp32.Clone();
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        var data = new Dictionary<string, float[]>(StringComparer.Ordinal);
        float[] Data(string name) => data.TryGetValue(name, out var d) ? d : data[name] = OnnxQuantizer.FloatData(inits[name]);
        int done = 0;
        foreach (var stream in Streams(model))
        {
            if (!stream.Tensors.All(channelMaxAbs.ContainsKey)) continue;
            int channels = channelMaxAbs[stream.Tensors[0]].Length;
            if (stream.Tensors.Any(t => channelMaxAbs[t].Length != channels)
                || stream.Writers.Any(w => inits[w.Input[1]].Dims[0] != channels) || stream.Readers.Any(x => inits[x.Input[1]].Dims[1] != channels)) continue;
            var r = new float[channels];
            foreach (var t in stream.Tensors)
                for (int c = 0; c < channels; c++) r[c] = Math.Max(r[c], channelMaxAbs[t][c]);
            float max = r.Max();
            if (!(max > 0) || !float.IsFinite(max)) continue;
            var s = r.Select(x => x > 0 ? (float)Math.Max(1e-4, Math.Pow(x / max, alpha)) : 1f).ToArray();
            foreach (var w in stream.Writers)
            {
                var wd = Data(w.Input[1]);
                int per = wd.Length / channels;
                for (int c = 0; c < channels; c++)
                    for (int i = 0; i < per; i++) wd[c * per + i] /= s[c];
                if (w.Input.Count >= 3 && w.Input[2].Length > 0)
                {
                    var b = Data(w.Input[2]);
                    for (int c = 0; c < channels; c++) b[c] /= s[c];
                }
            }
            foreach (var reader in stream.Readers)
            {
                var wd = Data(reader.Input[1]);
                var dims = inits[reader.Input[1]].Dims;
                int cout = (int)dims[0], kernel = (int)(dims[2] * dims[3]);
                for (int o = 0; o < cout; o++)
                    for (int c = 0; c < channels; c++)
                        for (int i = 0; i < kernel; i++) wd[(o * channels + c) * kernel + i] *= s[c];
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
