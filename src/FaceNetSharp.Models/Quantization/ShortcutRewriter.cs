using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// Rewrites a down-sampling shortcut, <c>AveragePool</c> 2x2 stride 2 (no padding) optionally followed by a
/// <c>Pad</c> of zeros on the channel axis, as one 2x2 stride-2 <c>Conv</c> without bias: weight 1/4 from input channel
/// i to output channel i + (channels padded before), zero rows for the padded channels. The float32 function is the
/// same (each output is the mean of the same four values; 1/4 and the sums of four are exact in float32 up to the
/// order of the additions), but the Conv is quantized like every other one (its 1/4 weights are exactly 127 at scale
/// 1/508), so ONNX Runtime runs the shortcut as a QLinearConv and its Add as a QLinearAdd, in NHWC like the rest of
/// the int8 graph, instead of float AveragePool/Pad/Add in NCHW with Transposes and DQ/Q pairs around them (dlib's
/// ResNet: 4 shortcuts; bench int8-sweep --model dlib-resnet --dump).
/// </summary>
internal static class ShortcutRewriter
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>The rewritten model (a copy) and how many shortcuts were rewritten (0: the copy is unchanged).</summary>
    public static (ModelProto Model, int Rewritten) Rewrite(ModelProto fp32)
    {
        var model = fp32.Clone();
        var graph = model.Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var input in node.Input.Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var replaced = new Dictionary<NodeProto, NodeProto?>(ReferenceEqualityComparer.Instance);
        foreach (var pool in graph.Node.Where(n => n.OpType == "AveragePool").ToList())
        {
            if (!Ints(pool, "kernel_shape").SequenceEqual([2L, 2L]) || !Ints(pool, "strides").SequenceEqual([2L, 2L])
                || Ints(pool, "pads").Any(p => p != 0) || Ints(pool, "dilations").Any(d => d != 1)
                || pool.Attribute.Any(a => a.Name == "ceil_mode" && a.I != 0)
                || pool.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() is not ("" or "NOTSET" or "VALID")))
                continue;
            // input channels: from a Conv that reads the same tensor (its weights' [1] times its group)
            var x = pool.Input[0];
            var reader = consumers.GetValueOrDefault(x)?.FirstOrDefault(n => n.OpType == "Conv" && n.Input[0] == x && inits.ContainsKey(n.Input[1]));
            if (reader is null) continue;
            int cin = (int)(inits[reader.Input[1]].Dims[1] * (reader.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1));
            int before = 0, after = 0;
            NodeProto? pad = null;
            if (!outputs.Contains(pool.Output[0]) && consumers.GetValueOrDefault(pool.Output[0]) is [{ OpType: "Pad" } p] && p.Input[0] == pool.Output[0]
                && ChannelPads(p, inits) is { } pads)
                (pad, before, after) = (p, pads.Before, pads.After);
            int cout = cin + before + after;
            var w = new float[cout * cin * 4];
            for (int i = 0; i < cin; i++)
                for (int k = 0; k < 4; k++) w[((i + before) * cin + i) * 4 + k] = 0.25f;
            string output = (pad ?? pool).Output[0];
            var wName = output + "_shortcut_weights";
            var wt = new TensorProto { Name = wName, DataType = FloatType, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(w.AsSpan())) };
            wt.Dims.AddRange([cout, cin, 2, 2]);
            graph.Initializer.Add(wt);
            var conv = new NodeProto { OpType = "Conv", Name = output + "_shortcut_conv", Input = { x, wName }, Output = { output } };
            conv.Attribute.Add(IntsAttribute("kernel_shape", 2, 2));
            conv.Attribute.Add(IntsAttribute("strides", 2, 2));
            conv.Attribute.Add(IntsAttribute("pads", 0, 0, 0, 0));
            replaced[pool] = conv;
            if (pad is not null) replaced[pad] = null;
        }
        if (replaced.Count == 0) return (model, 0);
        var nodes = graph.Node.SelectMany(n => replaced.TryGetValue(n, out var r) ? (r is null ? [] : [r]) : new[] { n }).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        // Pad amounts that are no longer read
        var used = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var t in graph.Initializer.Where(t => !used.Contains(t.Name) && t.DataType == (int)TensorProto.Types.DataType.Int64).ToList())
            graph.Initializer.Remove(t);
        return (model, replaced.Values.Count(v => v is not null));
    }

    /// <summary>The channels a constant-zero Pad of an NCHW tensor adds before and after, or null if it pads anything else.</summary>
    private static (int Before, int After)? ChannelPads(NodeProto pad, Dictionary<string, TensorProto> inits)
    {
        if (pad.Attribute.Any(a => a.Name == "mode" && a.S.ToStringUtf8() != "constant")) return null;
        if (pad.Input.Count < 2 || !inits.TryGetValue(pad.Input[1], out var p) || p.DataType != (int)TensorProto.Types.DataType.Int64) return null;
        if (pad.Input.Count >= 3 && pad.Input[2].Length > 0
            && (!inits.TryGetValue(pad.Input[2], out var v) || v.DataType != FloatType || OnnxQuantizer.FloatData(v).Any(f => f != 0))) return null;
        if (pad.Input.Count >= 4 && pad.Input[3].Length > 0) return null; // axes
        var pads = p.Int64Data.Count > 0 ? [.. p.Int64Data] : MemoryMarshal.Cast<byte, long>(p.RawData.Span).ToArray();
        if (pads.Length != 8 || pads.Any(v => v < 0)) return null;
        for (int i = 0; i < 8; i++)
            if (i != 1 && i != 5 && pads[i] != 0) return null;
        return ((int)pads[1], (int)pads[5]);
    }

    private static long[] Ints(NodeProto node, string name) => [.. node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints ?? []];

    private static AttributeProto IntsAttribute(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
