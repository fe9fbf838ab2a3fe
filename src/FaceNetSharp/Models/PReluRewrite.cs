using System.Buffers.Binary;
using System.Text;

namespace FaceNetSharp.Models;

/// <summary>
/// Rewrites an ONNX model's <c>PRelu(x, s)</c> nodes as <c>Max(x, Mul(x, s))</c> (slopes ≤ 1), <c>Min(x, Mul(x, s))</c>
/// (slopes ≥ 1) or <c>Add(Relu(x), Mul(Min(x, 0), s))</c> (slopes on both sides of 1), in the model's bytes, before
/// ONNX Runtime opens it; every value the graph computes stays bit for bit the same (up to the sign of a zero).
/// </summary>
/// <remarks>
/// Why: ONNX Runtime (1.2x, CPU) runs PRelu with a per-channel slope as a scalar loop with a branch per element
/// (x &lt; 0 ? x * s : x, found with perf in libonnxruntime.so); in MTCNN that loop was about 19% of all of `facenet
/// align`'s CPU time on 250x250 photos, more than P-Net's convolutions. Mul and Max run vectorised.
/// <para>Why the values are equal: for a slope s ≤ 1 and any x, max(x, s·x) = (x &lt; 0 ? s·x : x), since s·x ≥ x
/// exactly when x ≤ 0 (and s·x ≤ x when x ≥ 0); IEEE rounding is monotone and x·1 = x, so the rounded fl(s·x) keeps
/// both inequalities, and the chosen operand is the very float PRelu returns; for s ≥ 1 the same holds with min. For
/// mixed slopes, x &gt; 0 gives x + (±0) = x and x &lt; 0 gives 0 + fl(s·x), again PRelu's float. A zero may come out
/// with the other sign, which no later sum, max or exp tells apart. A PRelu whose slope is not a float initializer
/// is left as it is. (MTCNN has all three kinds: P-Net's conv1 slopes run from -1.28 to 1.01.)</para>
/// <para>The rewrite works on the protobuf wire format directly (ModelProto field 7 graph; GraphProto field 1 node,
/// field 5 initializer; NodeProto 1 input, 2 output, 3 name, 4 op_type, 7 domain; TensorProto 1 dims, 2 data_type,
/// 4 float_data, 8 name, 9 raw_data: onnx/onnx.proto3), copying every other field as it is, so that the library needs
/// no protobuf package. Mul and Max broadcast as PRelu does here (opset ≥ 8; the converted models use 13).</para>
/// </remarks>
internal static class PReluRewrite
{
    /// <summary>The model with every PRelu on a float slope rewritten, or the same array when it has none.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed protobuf message.</exception>
    public static byte[] Rewrite(byte[] model)
    {
        var top = Fields(model);
        var graphField = top.FindIndex(f => f.Number == 7 && f.WireType == 2);
        if (graphField < 0) return model;
        ReadOnlySpan<byte> graphBytes = top[graphField].Payload(model);
        var graph = Fields(graphBytes);
        // Only the PRelus' slopes are decoded (the other initializers are the weights: reading all of O-Net's 1.5 MB as
        // floats took 50 ms of a `facenet align` start-up).
        var slopeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in graph)
            if (f.Number == 1 && f.WireType == 2 && AsPRelu(f.Payload(graphBytes)) is { } prelu)
                slopeNames.Add(prelu.Slope);
        if (slopeNames.Count == 0) return model;
        var slopes = new Dictionary<string, SlopeRange>(StringComparer.Ordinal);
        foreach (var f in graph)
            if (f.Number == 5 && f.WireType == 2 && Range(f.Payload(graphBytes), slopeNames) is var (name, range))
                slopes[name] = range;

        var newGraph = new MemoryStream(graphBytes.Length + 1024);
        int rewritten = 0, mixed = 0;
        string zero = "prelu_rewrite/zero";
        foreach (var f in graph)
        {
            if (f.Number == 1 && f.WireType == 2 && AsPRelu(f.Payload(graphBytes)) is { } node && slopes.TryGetValue(node.Slope, out var range))
            {
                string product = $"{node.Output}/prelu_rewrite/mul";
                if (range != SlopeRange.Both)
                {
                    // s ≤ 1: max(x, s·x); s ≥ 1: min(x, s·x)
                    WriteBytes(newGraph, 1, NodeBytes([node.X, node.Slope], product, $"{node.Name}/mul", "Mul"));
                    WriteBytes(newGraph, 1, NodeBytes([node.X, product], node.Output, $"{node.Name}/{(range == SlopeRange.AtMostOne ? "max" : "min")}",
                        range == SlopeRange.AtMostOne ? "Max" : "Min"));
                }
                else
                {
                    // slopes on both sides of 1: relu(x) + s·min(x, 0)
                    string relu = $"{node.Output}/prelu_rewrite/relu", negative = $"{node.Output}/prelu_rewrite/min";
                    WriteBytes(newGraph, 1, NodeBytes([node.X], relu, $"{node.Name}/relu", "Relu"));
                    WriteBytes(newGraph, 1, NodeBytes([node.X, zero], negative, $"{node.Name}/min", "Min"));
                    WriteBytes(newGraph, 1, NodeBytes([negative, node.Slope], product, $"{node.Name}/mul", "Mul"));
                    WriteBytes(newGraph, 1, NodeBytes([relu, product], node.Output, $"{node.Name}/add", "Add"));
                    mixed++;
                }
                rewritten++;
            }
            else
            {
                newGraph.Write(graphBytes.Slice(f.Start, f.Length));
            }
        }
        if (rewritten == 0) return model;
        if (mixed > 0)
        {
            // the scalar 0 of min(x, 0) (only then: ONNX Runtime warns about an unused initializer): TensorProto
            // data_type 1 (FLOAT), no dims, name, raw_data of four zero bytes
            var zeroTensor = new MemoryStream();
            WriteVarint(zeroTensor, (2 << 3) | 0);
            WriteVarint(zeroTensor, 1);
            WriteBytes(zeroTensor, 8, Encoding.UTF8.GetBytes(zero));
            WriteBytes(zeroTensor, 9, new byte[4]);
            WriteBytes(newGraph, 5, zeroTensor.ToArray());
        }

        // the model with the new graph, written into an array of its exact size (no further copies of the weights)
        var graphPayload = newGraph.GetBuffer().AsSpan(0, (int)newGraph.Length);
        int size = model.Length - top[graphField].Length + VarintSize((7 << 3) | 2) + VarintSize((ulong)graphPayload.Length) + graphPayload.Length;
        var bytes = new byte[size];
        var result = new MemoryStream(bytes);
        for (int i = 0; i < top.Count; i++)
        {
            if (i == graphField) WriteBytes(result, 7, graphPayload);
            else result.Write(model.AsSpan(top[i].Start, top[i].Length));
        }
        if (result.Position != size) throw new InvalidOperationException("PRelu rewrite: model size miscounted");
        return bytes;
    }

    /// <summary>Where a PRelu's slopes lie against 1, which decides its exact rewrite.</summary>
    private enum SlopeRange { AtMostOne, AtLeastOne, Both }

    private readonly record struct PRelu(string X, string Slope, string Output, string Name);

    /// <summary>The node's operands when it is a default-domain PRelu with two inputs and one output, else null.</summary>
    private static PRelu? AsPRelu(ReadOnlySpan<byte> node)
    {
        var inputs = new List<string>(2);
        var outputs = new List<string>(1);
        string name = "", opType = "", domain = "";
        foreach (var f in Fields(node))
        {
            if (f.WireType != 2) continue;
            var text = Encoding.UTF8.GetString(f.Payload(node));
            switch (f.Number)
            {
                case 1: inputs.Add(text); break;
                case 2: outputs.Add(text); break;
                case 3: name = text; break;
                case 4: opType = text; break;
                case 7: domain = text; break;
            }
        }
        if (opType != "PRelu" || domain is not ("" or "ai.onnx") || inputs.Count != 2 || outputs.Count != 1) return null;
        return new PRelu(inputs[0], inputs[1], outputs[0], name.Length > 0 ? name : outputs[0]);
    }

    /// <summary>
    /// A float32 initializer's name and where its values lie against 1, when its name is one of <paramref name="wanted"/>;
    /// null for other initializers (whose values are not read).
    /// </summary>
    private static (string Name, SlopeRange Range)? Range(ReadOnlySpan<byte> tensor, HashSet<string> wanted)
    {
        var fields = Fields(tensor);
        string? name = null;
        int dataType = 0;
        foreach (var f in fields)
        {
            switch (f.Number, f.WireType)
            {
                case (2, 0): dataType = (int)f.Varint; break;
                case (8, 2): name = Encoding.UTF8.GetString(f.Payload(tensor)); break;
                case (13, _) or (14, _): return null; // external data
            }
        }
        if (name is null || dataType != 1 || !wanted.Contains(name)) return null; // 1 = FLOAT
        int count = 0;
        bool nan = false, atMostOne = true, atLeastOne = true;
        void Add(float v)
        {
            count++;
            nan |= float.IsNaN(v);
            atMostOne &= v <= 1f;
            atLeastOne &= v >= 1f;
        }
        foreach (var f in fields)
        {
            var payload = f.Payload(tensor);
            switch (f.Number, f.WireType)
            {
                case (9, 2):
                case (4, 2): // raw_data, or packed float_data: little-endian float32s either way
                    for (int i = 0; i + 4 <= payload.Length; i += 4) Add(BinaryPrimitives.ReadSingleLittleEndian(payload[i..]));
                    break;
                case (4, 5): Add(BitConverter.Int32BitsToSingle((int)f.Varint)); break;
            }
        }
        if (count == 0 || nan) return null;
        return (name, atMostOne ? SlopeRange.AtMostOne : atLeastOne ? SlopeRange.AtLeastOne : SlopeRange.Both);
    }

    private static byte[] NodeBytes(string[] inputs, string output, string name, string opType)
    {
        var s = new MemoryStream();
        foreach (var i in inputs) WriteBytes(s, 1, Encoding.UTF8.GetBytes(i));
        WriteBytes(s, 2, Encoding.UTF8.GetBytes(output));
        WriteBytes(s, 3, Encoding.UTF8.GetBytes(name));
        WriteBytes(s, 4, Encoding.UTF8.GetBytes(opType));
        return s.ToArray();
    }

    private static void WriteBytes(Stream s, int number, ReadOnlySpan<byte> payload)
    {
        WriteVarint(s, ((ulong)number << 3) | 2);
        WriteVarint(s, (ulong)payload.Length);
        s.Write(payload);
    }

    private static int VarintSize(ulong v)
    {
        int n = 1;
        for (; v >= 0x80; v >>= 7) n++;
        return n;
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    /// <summary>One field of a message: its number, wire type, where it starts and how long it is (tag included), and its
    /// value (varint or fixed) or where its payload lies (length-delimited).</summary>
    private readonly record struct Field(int Number, int WireType, int Start, int Length, ulong Varint, int PayloadStart, int PayloadLength)
    {
        public ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> message) => message.Slice(PayloadStart, PayloadLength);
    }

    private static List<Field> Fields(ReadOnlySpan<byte> m)
    {
        var fields = new List<Field>();
        int p = 0;
        while (p < m.Length)
        {
            int start = p;
            ulong tag = ReadVarint(m, ref p);
            int number = (int)(tag >> 3), wire = (int)(tag & 7);
            ulong value = 0;
            int payloadStart = p, payloadLength = 0;
            switch (wire)
            {
                case 0: value = ReadVarint(m, ref p); break;
                case 1: Need(m, p, 8); value = BinaryPrimitives.ReadUInt64LittleEndian(m[p..]); p += 8; break;
                case 5: Need(m, p, 4); value = BinaryPrimitives.ReadUInt32LittleEndian(m[p..]); p += 4; break;
                case 2:
                    ulong len = ReadVarint(m, ref p);
                    if (len > (ulong)(m.Length - p)) throw new InvalidDataException("protobuf field runs past the end of its message");
                    payloadStart = p;
                    payloadLength = (int)len;
                    p += (int)len;
                    break;
                default: throw new InvalidDataException($"protobuf wire type {wire} is not supported");
            }
            if (number == 0) throw new InvalidDataException("protobuf field number 0");
            fields.Add(new Field(number, wire, start, p - start, value, payloadStart, payloadLength));
        }
        return fields;
    }

    private static void Need(ReadOnlySpan<byte> m, int p, int n)
    {
        if (m.Length - p < n) throw new InvalidDataException("protobuf field runs past the end of its message");
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> m, ref int p)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (p >= m.Length) throw new InvalidDataException("protobuf varint runs past the end of its message");
            byte b = m[p++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException("protobuf varint longer than 10 bytes");
    }
}
