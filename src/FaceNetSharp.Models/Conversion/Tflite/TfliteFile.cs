using System.Runtime.InteropServices;
using Google.FlatBuffers;

namespace FaceNetSharp.Models.Conversion.Tflite;

/// <summary>A tensor of the first subgraph with its constant data (null for activations).</summary>
internal sealed record TfliteTensorInfo(int Index, string Name, int[] Shape, TfliteTensorType Type, float[]? Data);

/// <summary>One operator of the first subgraph, its code resolved through the operator-code table.</summary>
internal sealed record TfliteOperatorInfo(int Index, TfliteOp Code, int[] Inputs, int[] Outputs, TfliteOperator Raw);

/// <summary>
/// A TensorFlow Lite model read into plain lists (first subgraph only, float32 constants decoded).
/// The FlatBuffer accessors stay reachable through <see cref="TfliteOperatorInfo.Raw"/> for operator options.
/// </summary>
internal sealed class TfliteFile
{
    public IReadOnlyList<TfliteTensorInfo> Tensors { get; }
    public IReadOnlyList<TfliteOperatorInfo> Operators { get; }
    public int[] Inputs { get; }
    public int[] Outputs { get; }

    private TfliteFile(IReadOnlyList<TfliteTensorInfo> tensors, IReadOnlyList<TfliteOperatorInfo> ops, int[] inputs, int[] outputs)
    {
        Tensors = tensors;
        Operators = ops;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Parses <paramref name="bytes"/> (kept alive by the returned object's operator accessors).</summary>
    public static TfliteFile Read(byte[] bytes)
    {
        var bb = new ByteBuffer(bytes);
        var model = TfliteModel.GetRoot(bb);
        if (model.SubgraphsLength < 1) throw new InvalidDataException("TFLite model has no subgraph");
        var g = model.Subgraphs(0);

        var tensors = new TfliteTensorInfo[g.TensorsLength];
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = g.Tensors(i);
            float[]? data = null;
            if (t.Buffer != 0 && t.Buffer < model.BuffersLength)
            {
                var (start, length) = model.Buffers((int)t.Buffer).DataRange;
                if (length > 0) data = Decode(bytes.AsSpan(start, length), t.Type, t.Name);
            }
            tensors[i] = new TfliteTensorInfo(i, t.Name, t.Shape, t.Type, data);
        }

        var ops = new TfliteOperatorInfo[g.OperatorsLength];
        for (int i = 0; i < ops.Length; i++)
        {
            var op = g.Operators(i);
            var code = (TfliteOp)model.OperatorCodes((int)op.OpcodeIndex).Code;
            ops[i] = new TfliteOperatorInfo(i, code, op.Inputs, op.Outputs, op);
        }
        return new TfliteFile(tensors, ops, g.Inputs, g.Outputs);
    }

    private static float[] Decode(ReadOnlySpan<byte> raw, TfliteTensorType type, string name)
    {
        switch (type)
        {
            case TfliteTensorType.Float32:
                // tflite buffers are little-endian (schema.fbs: "the target device is little-endian").
                return MemoryMarshal.Cast<byte, float>(raw).ToArray();
            case TfliteTensorType.Int32:
            {
                var ints = MemoryMarshal.Cast<byte, int>(raw);
                var f = new float[ints.Length];
                for (int i = 0; i < f.Length; i++) f[i] = ints[i];
                return f;
            }
            default:
                throw new NotSupportedException($"tensor {name}: constant data of type {type} is not supported (float32 models only)");
        }
    }
}
