using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FaceNetSharp.Models.Onnx;

/// <summary>
/// Builds an ONNX graph (protobuf classes from the OnnxSharp package) one node at a time.
/// Tensor names are returned by every method so that graphs read as straight-line code:
/// <c>var x = b.Conv(input, w, bias, stride: 1); x = b.PRelu(x, alpha);</c>.
/// All float data is stored little-endian as <c>raw_data</c>.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    /// <summary>ONNX opset used by every converted model (13: Softmax/ReduceSum semantics we rely on).</summary>
    public const int Opset = 13;

    private readonly GraphProto _graph;
    private int _counter;

    public OnnxGraphBuilder(string graphName)
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>Declares a float32 graph input. A null dimension becomes a symbolic one named <c>{name}_d{i}</c>.</summary>
    public string Input(string name, params long?[] dims)
    {
        _graph.Input.Add(ValueInfo(name, dims));
        return name;
    }

    /// <summary>Declares a graph output; <paramref name="tensor"/> is renamed to <paramref name="name"/> with an Identity.</summary>
    public string Output(string tensor, string name, params long?[] dims)
    {
        if (tensor != name) Node("Identity", [tensor], name);
        _graph.Output.Add(ValueInfo(name, dims));
        return name;
    }

    /// <summary>Adds a float32 constant (weights).</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        long count = 1;
        foreach (var d in dims) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"initializer {name}: {data.Length} values for shape [{string.Join(",", dims)}]");
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an int64 constant (shapes, axes).</summary>
    public string InitializerInt64(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A fresh tensor name with a readable prefix.</summary>
    public string Fresh(string prefix) => $"{prefix}_{_counter++}";

    /// <summary>Adds a node with one output and returns the output name.</summary>
    public string Node(string opType, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        output ??= Fresh(opType.ToLowerInvariant());
        var node = new NodeProto { OpType = opType, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    // ---- common layers -------------------------------------------------------------------------------------

    /// <summary>2-D convolution, NCHW. <paramref name="pads"/> is ONNX order [top, left, bottom, right].</summary>
    public string Conv(string x, string weight, string? bias, int stride = 1, long[]? pads = null, int group = 1, string? output = null)
    {
        var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
        return Node("Conv", inputs, output,
            Ints("strides", stride, stride),
            Ints("pads", pads ?? [0, 0, 0, 0]),
            Int("group", group));
    }

    /// <summary>Max pooling, NCHW. <paramref name="ceil"/> reproduces Caffe/TF "SAME"-style trailing windows.</summary>
    public string MaxPool(string x, int kernel, int stride, long[]? pads = null, bool ceil = false) =>
        Node("MaxPool", [x], null,
            Ints("kernel_shape", kernel, kernel),
            Ints("strides", stride, stride),
            Ints("pads", pads ?? [0, 0, 0, 0]),
            Int("ceil_mode", ceil ? 1 : 0));

    public string AveragePool(string x, int kernel, int stride, long[]? pads = null) =>
        Node("AveragePool", [x], null,
            Ints("kernel_shape", kernel, kernel),
            Ints("strides", stride, stride),
            Ints("pads", pads ?? [0, 0, 0, 0]),
            Int("count_include_pad", 0));

    /// <summary>PReLU with a per-channel slope of shape [C,1,1] (broadcast over NCHW) or [C] for [N,C].</summary>
    public string PRelu(string x, string slope) => Node("PRelu", [x, slope]);

    public string Relu(string x) => Node("Relu", [x]);

    public string Add(string a, string b) => Node("Add", [a, b]);

    public string Mul(string a, string b) => Node("Mul", [a, b]);

    public string Transpose(string x, params long[] perm) => Node("Transpose", [x], null, Ints("perm", perm));

    public string Flatten(string x, int axis = 1) => Node("Flatten", [x], null, Int("axis", axis));

    /// <summary>y = x · Wᵀ + b with W stored [out, in] (PyTorch Linear / TFLite FullyConnected layout).</summary>
    public string Gemm(string x, string weight, string bias, string? output = null) =>
        Node("Gemm", [x, weight, bias], output, Int("transB", 1));

    public string Softmax(string x, int axis, string? output = null) => Node("Softmax", [x], output, Int("axis", axis));

    public string Pad(string x, long[] pads)
    {
        var p = InitializerInt64(Fresh("pads"), pads, pads.Length);
        return Node("Pad", [x, p]);
    }

    public string Concat(int axis, params string[] inputs) => Node("Concat", inputs, null, Int("axis", axis));

    /// <summary>The finished model.</summary>
    public ModelProto Build(string producer, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = producer,
            // Fixed, not the assembly's version: a converted model's bytes (and so the SHA-256 on its card) must not change
            // with the package version (converter changes bump ModelCatalog.ConverterVersion). "1.0.0.0" is what the
            // assembly version gave when the converters' output was last pinned.
            ProducerVersion = "1.0.0.0",
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (metadata is not null)
            foreach (var (k, v) in metadata)
                model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    public byte[] ToBytes(string producer, IReadOnlyDictionary<string, string>? metadata = null) =>
        Build(producer, metadata).ToByteArray();

    private static ValueInfoProto ValueInfo(string name, long?[] dims)
    {
        var shape = new TensorShapeProto();
        for (int i = 0; i < dims.Length; i++)
        {
            var d = new TensorShapeProto.Types.Dimension();
            if (dims[i] is { } v) d.DimValue = v; else d.DimParam = $"{name}_d{i}";
            shape.Dim.Add(d);
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }
}
