using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>The measured range of one activation tensor (both ends widened to include 0, so that 0 is exact).</summary>
internal readonly record struct ActivationRange(float Min, float Max);

/// <summary>
/// Rewrites a float32 ONNX graph into ONNX Runtime's QDQ form: every <c>Conv</c> with constant weights gets
/// per-output-channel symmetric int8 weights (<c>DequantizeLinear</c> on axis 0), an int32 bias at the scale
/// <c>s_x * s_w[c]</c>, and a <c>QuantizeLinear → DequantizeLinear</c> pair (uint8, asymmetric, from the calibrated
/// range) on its input and on its output. ONNX Runtime's CPU provider fuses each <c>DQ → Conv → Q</c> group into a
/// <c>QLinearConv</c> (u8 activations × s8 weights, the VNNI <c>vpdpbusd</c> kernel) and drops a <c>Relu</c> that is
/// followed by a Q with zero point 0; everything else (PRelu, Add, pools) stays float between the pairs.
/// </summary>
/// <remarks>
/// The scheme is the one of ONNX Runtime's own static quantizer (QuantFormat.QDQ, QUInt8 activations, QInt8 per-channel
/// weights), written here because its Python tools are not available to the project. The graph must be topologically
/// sorted (every converter here writes it so).
/// </remarks>
/// <summary>What <see cref="OnnxQuantizer"/> quantizes, for diagnosis: everything, or only one side.</summary>
internal enum QuantizerDiagnostic
{
    Full,
    WeightsOnly,
    ActivationsOnly,
}

internal static class OnnxQuantizer
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;
    private const int Uint8Type = (int)TensorProto.Types.DataType.Uint8;
    private const int Int8Type = (int)TensorProto.Types.DataType.Int8;
    private const int Int32Type = (int)TensorProto.Types.DataType.Int32;

    /// <summary>
    /// The Conv nodes that <see cref="Quantize"/> rewrites: constant float weights, constant bias if any, and not named
    /// (by output tensor) in <paramref name="floatConvs"/>, the Convs kept in float32.
    /// </summary>
    public static IReadOnlyList<NodeProto> QuantizableConvs(ModelProto model, IReadOnlySet<string>? floatConvs = null)
    {
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        var convs = model.Graph.Node.Where(n => n.OpType == "Conv" && n.Input.Count >= 2
            && inits.TryGetValue(n.Input[1], out var w) && w.DataType == FloatType && w.Dims.Count == 4
            && (n.Input.Count < 3 || n.Input[2].Length == 0 || inits.ContainsKey(n.Input[2]))).ToList();
        return convs.Take(Math.Max(0, convs.Count - FloatTailConvs)).Where(c => floatConvs is null || !floatConvs.Contains(c.Output[0])).ToList();
    }

    /// <summary>
    /// The Convs (by output tensor) after the graph's last PRelu or Relu, in graph order: the linear embedding head
    /// (MobileFaceNet: the 7x7 depthwise Conv over the last feature map and its two 1x1 Convs). Empty without a PRelu or Relu.
    /// </summary>
    public static IReadOnlySet<string> LinearHeadConvs(ModelProto model)
    {
        int last = -1;
        for (int i = 0; i < model.Graph.Node.Count; i++)
            if (model.Graph.Node[i].OpType is "PRelu" or "Relu") last = i;
        return last < 0 ? new HashSet<string>(StringComparer.Ordinal)
            : model.Graph.Node.Skip(last + 1).Where(n => n.OpType == "Conv").Select(n => n.Output[0]).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// How many of the last Convs (in graph order) stay float32 (the embedding head). 0: keeping MobileFaceNet's last
    /// two in float32 did not raise its lowest cosine to float32 (0.709 either way, bench int8 --quick, 2026-11-30, version
    /// 1); the bench's <c>--float-tail N</c> sets it to measure again. Since version 4, <see cref="Int8Models.Build"/>
    /// keeps MobileFaceNet's <see cref="LinearHeadConvs"/> in float32 by name instead.
    /// </summary>
    internal static int FloatTailConvs;

    /// <summary>Quantize only the weights or only the activations (the bench's diagnosis of where the loss is); float32 bias either way.</summary>
    internal static QuantizerDiagnostic Diagnostic;

    /// <summary>Leaves PRelu in float32 between Q/DQ pairs instead of rewriting it (for the bench's comparison).</summary>
    internal static bool KeepPReluFloat;

    /// <summary>
    /// A Conv whose only consumer is a PRelu with per-channel slopes. ONNX Runtime has no quantized PRelu, and its float
    /// PRelu between Q/DQ pairs took 82 % of the int8 MobileFaceNet's time (bench int8 --profile), so the pair is
    /// rewritten with quantized Convs and Adds only, exact in real numbers:
    /// <c>PRelu(z) = Relu(z) + Min(a⁺ ∘ z, 0) + Max(a⁻ ∘ z, 0)</c>, where a⁺ keeps the slopes ≥ 0 (others 0) and a⁻ the
    /// negative ones (MobileFaceNet has both). Relu(z) is the Conv quantized with zero point 0 (the uint8 range clamps at
    /// 0); each other term is the Conv with weights and bias scaled by a⁺ or a⁻, quantized to [min, 0] (zero point 255,
    /// which clamps from above) or [0, max]; two QLinearAdds sum them. Up to three times that Conv's int8 MACs, no float op.
    /// </summary>
    private sealed record PReluSplit(NodeProto Conv, NodeProto PRelu, float[] Slope)
    {
        public string Z => Conv.Output[0];
        public float[] Positive => [.. Slope.Select(a => a > 0 ? a : 0)];
        public float[] Negative => [.. Slope.Select(a => a < 0 ? a : 0)];
        public bool HasPositive => Slope.Any(a => a > 0);
        public bool HasNegative => Slope.Any(a => a < 0);
        public string PositiveProbe => Z + "_times_positive_slope";
        public string NegativeProbe => Z + "_times_negative_slope";
        public string PositiveBranch => Z + "_positive_slope_branch";
        public string NegativeBranch => Z + "_negative_slope_branch";
        public string PartialSum => Z + "_prelu_partial";
    }

    private static List<PReluSplit> PReluSplits(ModelProto model, IReadOnlyList<NodeProto> convs)
    {
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        var consumers = Consumers(model.Graph);
        var outputs = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var splits = new List<PReluSplit>();
        if (KeepPReluFloat) return splits;
        foreach (var conv in convs)
        {
            if (outputs.Contains(conv.Output[0])) continue;
            if (consumers.GetValueOrDefault(conv.Output[0]) is not [{ OpType: "PRelu" } prelu] || prelu.Input[0] != conv.Output[0]) continue;
            if (!inits.TryGetValue(prelu.Input[1], out var slopeTensor) || slopeTensor.DataType != FloatType) continue;
            var slope = FloatData(slopeTensor);
            // one slope per output channel, broadcast as [C,1,1] or [1,C,1,1]
            if (slope.Length != inits[conv.Input[1]].Dims[0] || slopeTensor.Dims.Count(d => d != 1) > 1 || !slope.All(float.IsFinite)) continue;
            splits.Add(new PReluSplit(conv, prelu, slope));
        }
        return splits;
    }

    /// <summary>
    /// The activation tensors whose ranges <see cref="Quantize"/> needs, measured on <see cref="CalibrationModel"/>:
    /// each quantized Conv's input, and its output or, where the output's only consumer is a Relu, that Relu's output
    /// (so the Relu folds into the Q); for a Conv → PRelu pair, also the PRelu's output and <c>a⁺ ∘ z</c>, <c>a⁻ ∘ z</c>.
    /// </summary>
    public static IReadOnlyList<string> TensorsToCalibrate(ModelProto model, IReadOnlySet<string>? floatConvs = null)
    {
        var consumers = Consumers(model.Graph);
        var convs = QuantizableConvs(model, floatConvs);
        var names = new List<string>();
        foreach (var conv in convs)
        {
            names.Add(conv.Input[0]);
            names.Add(QuantizedOutput(conv, consumers, model.Graph));
        }
        foreach (var split in PReluSplits(model, convs))
            names.AddRange([split.PRelu.Output[0], split.PositiveProbe, split.NegativeProbe]);
        names.AddRange(QuantizedAdds(model.Graph, names, consumers).Where(t => t.PadOf is null).Select(t => t.Tensor));
        return [.. names.Distinct()];
    }

    /// <summary>The float model with the probes <see cref="TensorsToCalibrate"/> names (<c>a± ∘ z</c> of each Conv → PRelu pair) added.</summary>
    public static ModelProto CalibrationModel(ModelProto fp32)
    {
        var model = fp32.Clone();
        var inits = model.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (var split in PReluSplits(model, QuantizableConvs(model)))
        {
            var dims = inits[split.PRelu.Input[1]].Dims.ToArray();
            foreach (var (probe, slope) in new[] { (split.PositiveProbe, split.Positive), (split.NegativeProbe, split.Negative) })
            {
                model.Graph.Initializer.Add(FloatTensor(probe + "_slope", slope, dims));
                model.Graph.Node.Add(new NodeProto { OpType = "Mul", Name = probe + "_node", Input = { split.Z, probe + "_slope" }, Output = { probe } });
            }
        }
        return model;
    }

    /// <summary>
    /// The QDQ model. <paramref name="ranges"/> holds every tensor of <see cref="TensorsToCalibrate"/>; a missing one
    /// is an <see cref="ArgumentException"/> naming it. The activations named in <paramref name="floatActivations"/>
    /// (tensors of <see cref="ActivationTensors"/>) get no Q/DQ pair and stay float32; where the PRelu rewrite relied on
    /// the pair's clamp at 0 (<c>Relu(z)</c>, <c>Min(a⁺ ∘ z, 0)</c>, <c>Max(a⁻ ∘ z, 0)</c>), a <c>Clip</c> does it instead.
    /// </summary>
    public static ModelProto Quantize(ModelProto fp32, IReadOnlyDictionary<string, ActivationRange> ranges, IReadOnlySet<string>? floatConvs = null,
        IReadOnlySet<string>? floatActivations = null)
    {
        foreach (var name in TensorsToCalibrate(fp32, floatConvs))
            if (!ranges.ContainsKey(name)) throw new ArgumentException($"no calibrated range for tensor '{name}'");
        var model = fp32.Clone();
        var graph = model.Graph;
        var rangesUsed = new Dictionary<string, ActivationRange>(ranges, StringComparer.Ordinal);

        // Conv → PRelu pairs: Convs with slope-scaled weights, and Adds in place of the PRelu.
        var splits = PReluSplits(model, QuantizableConvs(model, floatConvs));
        var initsByName = graph.Initializer.ToDictionary(t => t.Name);
        var replacement = new Dictionary<NodeProto, NodeProto[]>(ReferenceEqualityComparer.Instance);
        var addOutputs = new List<string>();
        // tensors whose Q clamps at 0 from below (+1) or above (-1), which a float32 tensor must do with a Clip
        var clamped = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var split in splits)
        {
            var conv = split.Conv;
            var convs2 = new List<NodeProto> { conv };
            var terms = new List<string> { split.Z };
            rangesUsed[split.Z] = new ActivationRange(0, Math.Max(0, ranges[split.Z].Max));
            clamped[split.Z] = 1;
            if (split.HasPositive)
            {
                convs2.Add(ScaledConv(graph, initsByName, conv, split.Positive, split.PositiveBranch));
                terms.Add(split.PositiveBranch);
                rangesUsed[split.PositiveBranch] = new ActivationRange(Math.Min(0, ranges[split.PositiveProbe].Min), 0);
                clamped[split.PositiveBranch] = -1;
            }
            if (split.HasNegative)
            {
                convs2.Add(ScaledConv(graph, initsByName, conv, split.Negative, split.NegativeBranch));
                terms.Add(split.NegativeBranch);
                rangesUsed[split.NegativeBranch] = new ActivationRange(0, Math.Max(0, ranges[split.NegativeProbe].Max));
                clamped[split.NegativeBranch] = 1;
            }
            var adds = new List<NodeProto>();
            string sum = terms[0];
            for (int i = 1; i < terms.Count; i++)
            {
                string output = i == terms.Count - 1 ? split.PRelu.Output[0] : split.PartialSum;
                adds.Add(new NodeProto { OpType = "Add", Name = output + "_add", Input = { sum, terms[i] }, Output = { output } });
                if (output == split.PartialSum)
                {
                    // relu(z) + min(a+ z, 0) lies within [min of the second term, max of relu(z)]
                    rangesUsed[output] = new ActivationRange(rangesUsed[terms[i]].Min, rangesUsed[split.Z].Max);
                    addOutputs.Add(output);
                }
                sum = output;
            }
            if (terms.Count == 1) adds.Add(new NodeProto { OpType = "Identity", Name = split.PRelu.Name + "_relu", Input = { split.Z }, Output = { split.PRelu.Output[0] } });
            replacement[conv] = [.. convs2];
            replacement[split.PRelu] = [.. adds];
            addOutputs.Add(split.PRelu.Output[0]);
        }
        if (replacement.Count > 0)
        {
            var rewritten = graph.Node.SelectMany(n => replacement.TryGetValue(n, out var r) ? r : [n]).ToList();
            graph.Node.Clear();
            graph.Node.AddRange(rewritten);
        }

        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var consumers = Consumers(graph);
        var convs = QuantizableConvs(model, floatConvs);

        // Tensor -> (scale, zero point) of its Q/DQ pair.
        var activation = new Dictionary<string, (float Scale, byte ZeroPoint)>(StringComparer.Ordinal);
        foreach (var conv in convs)
            foreach (var name in new[] { conv.Input[0], QuantizedOutput(conv, consumers, graph) })
                activation[name] = Uint8Params(rangesUsed.TryGetValue(name, out var r) ? r
                    : throw new ArgumentException($"no calibrated range for tensor '{name}'"));
        foreach (var name in addOutputs)
            activation[name] = Uint8Params(rangesUsed[name]);
        foreach (var (tensor, padOf) in QuantizedAdds(graph, activation.Keys, consumers))
            activation[tensor] = padOf is not null ? activation[padOf] : Uint8Params(rangesUsed.TryGetValue(tensor, out var r) ? r
                : throw new ArgumentException($"no calibrated range for tensor '{tensor}'"));

        // Weights and biases: replaced by int8/int32 initializers feeding a DequantizeLinear each.
        var weightNodes = new Dictionary<NodeProto, List<NodeProto>>(ReferenceEqualityComparer.Instance);
        foreach (var conv in convs)
        {
            if (Diagnostic == QuantizerDiagnostic.ActivationsOnly) continue;
            var w = inits[conv.Input[1]];
            var wData = FloatData(w);
            int cout = (int)w.Dims[0];
            int per = wData.Length / cout;
            var wScale = new float[cout];
            var wq = new sbyte[wData.Length];
            for (int c = 0; c < cout; c++)
            {
                float maxAbs = 0;
                for (int i = 0; i < per; i++) maxAbs = Math.Max(maxAbs, Math.Abs(wData[c * per + i]));
                // Symmetric int8 in [-127, 127] (ONNX Runtime's QInt8 weights: -128 unused so that the range is symmetric).
                float s = maxAbs > 0 ? maxAbs / 127f : 1f;
                wScale[c] = s;
                for (int i = 0; i < per; i++)
                    wq[c * per + i] = (sbyte)Math.Clamp(MathF.Round(wData[c * per + i] / s, MidpointRounding.ToEven), -127, 127);
            }
            var extra = new List<NodeProto>();
            string wqName = conv.Input[1] + "_quantized";
            graph.Initializer.Add(Tensor(wqName, Int8Type, MemoryMarshal.AsBytes(wq.AsSpan()), w.Dims.ToArray()));
            graph.Initializer.Add(FloatTensor(wqName + "_scale", wScale, cout));
            graph.Initializer.Add(Tensor(wqName + "_zero_point", Int8Type, new byte[cout], cout));
            extra.Add(Dequantize(wqName, wqName + "_scale", wqName + "_zero_point", conv.Input[1] + "_dequantized", axis: 0));
            conv.Input[1] = conv.Input[1] + "_dequantized";

            if (conv.Input.Count >= 3 && conv.Input[2].Length > 0 && Diagnostic != QuantizerDiagnostic.WeightsOnly)
            {
                var b = FloatData(inits[conv.Input[2]]);
                float sx = activation[conv.Input[0]].Scale;
                var bScale = new float[cout];
                var bq = new int[cout];
                for (int c = 0; c < cout; c++)
                {
                    bScale[c] = sx * wScale[c];
                    bq[c] = (int)Math.Clamp(Math.Round((double)b[c] / bScale[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
                }
                string bqName = conv.Input[2] + "_" + conv.Name + "_quantized";
                graph.Initializer.Add(Tensor(bqName, Int32Type, MemoryMarshal.AsBytes(bq.AsSpan()), cout));
                graph.Initializer.Add(FloatTensor(bqName + "_scale", bScale, cout));
                graph.Initializer.Add(Tensor(bqName + "_zero_point", Int32Type, new byte[4 * cout], cout));
                extra.Add(Dequantize(bqName, bqName + "_scale", bqName + "_zero_point", bqName + "_dequantized", axis: 0));
                conv.Input[2] = bqName + "_dequantized";
            }
            weightNodes[conv] = extra;
        }

        // Activation pairs: after the producer (or first, for a graph input), and every consumer reads the DQ output.
        if (Diagnostic == QuantizerDiagnostic.WeightsOnly) activation.Clear();
        if (floatActivations?.FirstOrDefault(t => !activation.ContainsKey(t)) is { } notQuantized)
            throw new ArgumentException($"tensor '{notQuantized}' is not a quantized activation");
        long opset = model.OpsetImport.FirstOrDefault(o => o.Domain.Length == 0 || o.Domain == "ai.onnx")?.Version ?? 0;
        var pairs = activation.ToDictionary(kv => kv.Key, kv =>
        {
            string q = kv.Key + "_q", dq = kv.Key + "_dq";
            if (floatActivations?.Contains(kv.Key) == true)
            {
                // float32: consumers read the tensor itself (an Identity ONNX Runtime removes), or its clamp
                if (!clamped.TryGetValue(kv.Key, out int side))
                    return new[] { new NodeProto { OpType = "Identity", Name = dq + "_node", Input = { kv.Key }, Output = { dq } } };
                if (opset < 11) throw new ArgumentException($"keeping '{kv.Key}' in float32 needs Clip with inputs (opset 11+), the model has opset {opset}");
                graph.Initializer.Add(FloatTensor(dq + "_zero", [0f]));
                var clip = new NodeProto { OpType = "Clip", Name = dq + "_node", Input = { kv.Key, side > 0 ? dq + "_zero" : "" }, Output = { dq } };
                if (side < 0) clip.Input.Add(dq + "_zero");
                return new[] { clip };
            }
            graph.Initializer.Add(FloatTensor(q + "_scale", [kv.Value.Scale]));
            graph.Initializer.Add(Tensor(q + "_zero_point", Uint8Type, [kv.Value.ZeroPoint]));
            return new[]
            {
                new NodeProto { OpType = "QuantizeLinear", Name = q + "_node", Input = { kv.Key, q + "_scale", q + "_zero_point" }, Output = { q } },
                new NodeProto { OpType = "DequantizeLinear", Name = dq + "_node", Input = { q, q + "_scale", q + "_zero_point" }, Output = { dq } },
            };
        });
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in pairs.Keys)
        {
            if (graphOutputs.Contains(name))
                throw new ArgumentException($"tensor '{name}' is a graph output; quantizing it would change the model's output");
            foreach (var consumer in consumers.GetValueOrDefault(name) ?? [])
                for (int i = 0; i < consumer.Input.Count; i++)
                    if (consumer.Input[i] == name) consumer.Input[i] = name + "_dq";
        }

        var nodes = new List<NodeProto>();
        foreach (var input in graph.Input)
            if (pairs.TryGetValue(input.Name, out var p)) nodes.AddRange(p);
        foreach (var node in graph.Node)
        {
            if (weightNodes.TryGetValue(node, out var extra)) nodes.AddRange(extra);
            nodes.Add(node);
            foreach (var output in node.Output)
                if (pairs.TryGetValue(output, out var p)) nodes.AddRange(p);
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);

        // The float weights that are now quantized are no longer read.
        var used = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var dead = graph.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var t in dead) graph.Initializer.Remove(t);
        return model;
    }

    /// <summary>The activation tensors <see cref="Quantize"/> puts a Q/DQ pair on (in the quantized graph's names), which <c>floatActivations</c> may name.</summary>
    public static IReadOnlyList<string> ActivationTensors(ModelProto fp32, IReadOnlyDictionary<string, ActivationRange> ranges, IReadOnlySet<string>? floatConvs = null) =>
        [.. Quantize(fp32, ranges, floatConvs).Graph.Node.Where(n => n.OpType == "QuantizeLinear").Select(n => n.Input[0])];

    /// <summary>A copy of <paramref name="conv"/> whose weights and bias are scaled per output channel by <paramref name="slope"/>.</summary>
    private static NodeProto ScaledConv(GraphProto graph, Dictionary<string, TensorProto> inits, NodeProto conv, float[] slope, string output)
    {
        var w = inits[conv.Input[1]];
        var wData = FloatData(w);
        int cout = slope.Length, per = wData.Length / cout;
        for (int c = 0; c < cout; c++)
            for (int i = 0; i < per; i++) wData[c * per + i] *= slope[c];
        var scaled = conv.Clone();
        scaled.Name = output + "_node";
        scaled.Output[0] = output;
        graph.Initializer.Add(FloatTensor(output + "_weights", wData, [.. w.Dims]));
        scaled.Input[1] = output + "_weights";
        if (conv.Input.Count >= 3 && conv.Input[2].Length > 0)
        {
            var b = FloatData(inits[conv.Input[2]]);
            for (int c = 0; c < cout; c++) b[c] *= slope[c];
            graph.Initializer.Add(FloatTensor(output + "_bias", b, cout));
            scaled.Input[2] = output + "_bias";
        }
        return scaled;
    }

    /// <summary>uint8 scale and zero point of a range (widened to include 0; ONNX Runtime's QUInt8 activation scheme).</summary>
    internal static (float Scale, byte ZeroPoint) Uint8Params(ActivationRange r)
    {
        float min = Math.Min(r.Min, 0), max = Math.Max(r.Max, 0);
        float scale = (max - min) / 255f;
        if (!(scale > 0) || !float.IsFinite(scale)) return (1f, 0);
        return (scale, (byte)Math.Clamp(MathF.Round(-min / scale, MidpointRounding.ToEven), 0, 255));
    }

    /// <summary>
    /// The tensors quantized beyond the Convs' inputs and outputs so that every Add of two quantized tensors becomes a
    /// QLinearAdd (ONNX Runtime fuses DQ, DQ → Add → Q only): the output of a constant-zero <c>Pad</c> of a quantized
    /// tensor (<c>PadOf</c>: quantized with that tensor's scale and zero point, which represents the padded 0 exactly),
    /// and the output of an Add whose inputs are all quantized (or its Relu's, where one Relu is its only consumer),
    /// measured like a Conv output. dlib's down-sampling blocks (their main path padded by a zero row and column) need
    /// both once <see cref="ShortcutRewriter"/> has made their shortcut a Conv; MobileFaceNet's Adds already feed Convs.
    /// </summary>
    private static List<(string Tensor, string? PadOf)> QuantizedAdds(GraphProto graph, IEnumerable<string> quantized, Dictionary<string, List<NodeProto>> consumers)
    {
        var set = quantized.ToHashSet(StringComparer.Ordinal);
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var result = new List<(string, string?)>();
        foreach (var node in graph.Node)
        {
            if (node.OpType == "Pad" && set.Contains(node.Input[0]) && !set.Contains(node.Output[0]) && !outputs.Contains(node.Output[0])
                && !node.Attribute.Any(a => a.Name == "mode" && a.S.ToStringUtf8() != "constant")
                && (node.Input.Count < 3 || node.Input[2].Length == 0 || (inits.TryGetValue(node.Input[2], out var v) && FloatData(v).All(f => f == 0))))
            {
                result.Add((node.Output[0], node.Input[0]));
                set.Add(node.Output[0]);
            }
            else if (node.OpType == "Add" && node.Input.All(set.Contains))
            {
                var y = node.Output[0];
                if (consumers.GetValueOrDefault(y) is [{ OpType: "Relu" } relu] && !outputs.Contains(y)) y = relu.Output[0];
                if (set.Contains(y) || outputs.Contains(y)) continue;
                result.Add((y, null));
                set.Add(y);
            }
        }
        return result;
    }

    /// <summary>The Conv's output, or its Relu's output where the Conv's only consumer is one Relu.</summary>
    private static string QuantizedOutput(NodeProto conv, Dictionary<string, List<NodeProto>> consumers, GraphProto graph)
    {
        var y = conv.Output[0];
        if (consumers.GetValueOrDefault(y) is [{ OpType: "Relu" } relu] && !graph.Output.Any(o => o.Name == y))
            return relu.Output[0];
        return y;
    }

    private static Dictionary<string, List<NodeProto>> Consumers(GraphProto graph)
    {
        var map = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var input in node.Input.Distinct())
            {
                if (!map.TryGetValue(input, out var list)) map[input] = list = [];
                list.Add(node);
            }
        return map;
    }

    internal static float[] FloatData(TensorProto t)
    {
        if (t.DataType != FloatType) throw new ArgumentException($"initializer {t.Name} is not float32");
        if (t.FloatData.Count > 0) return [.. t.FloatData];
        return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
    }

    private static NodeProto Dequantize(string x, string scale, string zeroPoint, string output, int axis)
    {
        var node = new NodeProto { OpType = "DequantizeLinear", Name = output + "_node", Input = { x, scale, zeroPoint }, Output = { output } };
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = axis });
        return node;
    }

    private static TensorProto FloatTensor(string name, float[] data, params long[] dims) =>
        Tensor(name, FloatType, MemoryMarshal.AsBytes(data.AsSpan()), dims);

    private static TensorProto Tensor(string name, int type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims);
        return t;
    }
}
