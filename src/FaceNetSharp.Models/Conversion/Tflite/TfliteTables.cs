using Google.FlatBuffers;

namespace FaceNetSharp.Models.Conversion.Tflite;

// Hand-written FlatBuffers accessors for the parts of TensorFlow Lite's schema
// (tensorflow/lite/schema/schema.fbs) that the converters read, in the shape flatc's C# output takes:
// a struct over a Table, each field read through its vtable slot. A field with id k lives at vtable
// offset 4 + 2*k; a missing field (offset 0) takes the schema's default.

/// <summary><c>table Model</c>: version(0), operator_codes(1), subgraphs(2), description(3), buffers(4).</summary>
internal struct TfliteModel : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    /// <summary>Reads the root table; checks the "TFL3" file identifier.</summary>
    public static TfliteModel GetRoot(ByteBuffer bb)
    {
        if (bb.Length < 8 || !Table.__has_identifier(bb, "TFL3"))
            throw new InvalidDataException("not a TensorFlow Lite file (file identifier is not TFL3)");
        var m = new TfliteModel();
        m.__init(bb.GetInt(bb.Position) + bb.Position, bb);
        return m;
    }

    public uint Version { get { int o = __p.__offset(4); return o != 0 ? __p.bb.GetUint(o + __p.bb_pos) : 0u; } }

    public int OperatorCodesLength { get { int o = __p.__offset(6); return o != 0 ? __p.__vector_len(o) : 0; } }
    public TfliteOperatorCode OperatorCodes(int j) => VectorTable<TfliteOperatorCode>(6, j);

    public int SubgraphsLength { get { int o = __p.__offset(8); return o != 0 ? __p.__vector_len(o) : 0; } }
    public TfliteSubGraph Subgraphs(int j) => VectorTable<TfliteSubGraph>(8, j);

    public int BuffersLength { get { int o = __p.__offset(12); return o != 0 ? __p.__vector_len(o) : 0; } }
    public TfliteBuffer Buffers(int j) => VectorTable<TfliteBuffer>(12, j);

    private T VectorTable<T>(int slot, int j) where T : struct, IFlatbufferObject
    {
        int o = __p.__offset(slot);
        var t = new T();
        t.__init(__p.__indirect(__p.__vector(o) + j * 4), __p.bb);
        return t;
    }
}

/// <summary><c>table OperatorCode</c>: deprecated_builtin_code:byte(0), custom_code(1), version(2), builtin_code:int(3).</summary>
internal struct TfliteOperatorCode : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public sbyte DeprecatedBuiltinCode { get { int o = __p.__offset(4); return o != 0 ? __p.bb.GetSbyte(o + __p.bb_pos) : (sbyte)0; } }
    public string? CustomCode { get { int o = __p.__offset(6); return o != 0 ? __p.__string(o + __p.bb_pos) : null; } }
    public int BuiltinCode { get { int o = __p.__offset(10); return o != 0 ? __p.bb.GetInt(o + __p.bb_pos) : 0; } }

    /// <summary>
    /// The operator. Files written before schema 3a only fill the byte field, newer ones fill both (the byte
    /// saturated at 127), so the larger of the two is the real code — the rule the TFLite runtime itself applies.
    /// </summary>
    public int Code => Math.Max(DeprecatedBuiltinCode, BuiltinCode);
}

/// <summary><c>table SubGraph</c>: tensors(0), inputs(1), outputs(2), operators(3), name(4).</summary>
internal struct TfliteSubGraph : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public int TensorsLength { get { int o = __p.__offset(4); return o != 0 ? __p.__vector_len(o) : 0; } }
    public TfliteTensor Tensors(int j)
    {
        var t = new TfliteTensor();
        t.__init(__p.__indirect(__p.__vector(__p.__offset(4)) + j * 4), __p.bb);
        return t;
    }

    public int[] Inputs => TableReading.IntVector(__p, 6);
    public int[] Outputs => TableReading.IntVector(__p, 8);

    public int OperatorsLength { get { int o = __p.__offset(10); return o != 0 ? __p.__vector_len(o) : 0; } }
    public TfliteOperator Operators(int j)
    {
        var t = new TfliteOperator();
        t.__init(__p.__indirect(__p.__vector(__p.__offset(10)) + j * 4), __p.bb);
        return t;
    }

    public string? Name { get { int o = __p.__offset(12); return o != 0 ? __p.__string(o + __p.bb_pos) : null; } }
}

/// <summary><c>table Tensor</c>: shape(0), type(1), buffer(2), name(3), quantization(4).</summary>
internal struct TfliteTensor : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public int[] Shape => TableReading.IntVector(__p, 4);
    public TfliteTensorType Type { get { int o = __p.__offset(6); return o != 0 ? (TfliteTensorType)__p.bb.GetSbyte(o + __p.bb_pos) : TfliteTensorType.Float32; } }
    public uint Buffer { get { int o = __p.__offset(8); return o != 0 ? __p.bb.GetUint(o + __p.bb_pos) : 0u; } }
    public string Name { get { int o = __p.__offset(10); return o != 0 ? __p.__string(o + __p.bb_pos) : ""; } }
}

/// <summary><c>table Buffer</c>: data:[ubyte](0). (Fields offset/size of large-model files are not used here.)</summary>
internal struct TfliteBuffer : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    /// <summary>Absolute position and length of the data bytes in the file; (0, 0) when the buffer is empty.</summary>
    public (int Start, int Length) DataRange
    {
        get
        {
            int o = __p.__offset(4);
            return o != 0 ? (__p.__vector(o), __p.__vector_len(o)) : (0, 0);
        }
    }
}

/// <summary>
/// <c>table Operator</c>: opcode_index:uint(0), inputs(1), outputs(2), builtin_options_type(3), builtin_options(4).
/// An input index of -1 marks an omitted optional input.
/// </summary>
internal struct TfliteOperator : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public uint OpcodeIndex { get { int o = __p.__offset(4); return o != 0 ? __p.bb.GetUint(o + __p.bb_pos) : 0u; } }
    public int[] Inputs => TableReading.IntVector(__p, 6);
    public int[] Outputs => TableReading.IntVector(__p, 8);
    public TfliteOptionsType BuiltinOptionsType { get { int o = __p.__offset(10); return o != 0 ? (TfliteOptionsType)__p.bb.Get(o + __p.bb_pos) : TfliteOptionsType.None; } }

    /// <summary>The options table when <see cref="BuiltinOptionsType"/> matches; null otherwise.</summary>
    public T? BuiltinOptions<T>() where T : struct, IFlatbufferObject
    {
        int o = __p.__offset(12);
        return o != 0 ? __p.__union<T>(o + __p.bb_pos) : null;
    }
}

/// <summary><c>table Conv2DOptions</c>: padding(0), stride_w(1), stride_h(2), fused_activation_function(3), dilation_w_factor(4)=1, dilation_h_factor(5)=1.</summary>
internal struct TfliteConv2DOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public TflitePadding Padding => (TflitePadding)TableReading.SByte(__p, 4, 0);
    public int StrideW => TableReading.Int(__p, 6, 0);
    public int StrideH => TableReading.Int(__p, 8, 0);
    public TfliteActivation Activation => (TfliteActivation)TableReading.SByte(__p, 10, 0);
    public int DilationW => TableReading.Int(__p, 12, 1);
    public int DilationH => TableReading.Int(__p, 14, 1);
}

/// <summary><c>table DepthwiseConv2DOptions</c>: padding(0), stride_w(1), stride_h(2), depth_multiplier(3), fused_activation_function(4), dilation_w_factor(5)=1, dilation_h_factor(6)=1.</summary>
internal struct TfliteDepthwiseConv2DOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public TflitePadding Padding => (TflitePadding)TableReading.SByte(__p, 4, 0);
    public int StrideW => TableReading.Int(__p, 6, 0);
    public int StrideH => TableReading.Int(__p, 8, 0);
    public int DepthMultiplier => TableReading.Int(__p, 10, 0);
    public TfliteActivation Activation => (TfliteActivation)TableReading.SByte(__p, 12, 0);
    public int DilationW => TableReading.Int(__p, 14, 1);
    public int DilationH => TableReading.Int(__p, 16, 1);
}

/// <summary><c>table Pool2DOptions</c>: padding(0), stride_w(1), stride_h(2), filter_width(3), filter_height(4), fused_activation_function(5).</summary>
internal struct TflitePool2DOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public TflitePadding Padding => (TflitePadding)TableReading.SByte(__p, 4, 0);
    public int StrideW => TableReading.Int(__p, 6, 0);
    public int StrideH => TableReading.Int(__p, 8, 0);
    public int FilterWidth => TableReading.Int(__p, 10, 0);
    public int FilterHeight => TableReading.Int(__p, 12, 0);
    public TfliteActivation Activation => (TfliteActivation)TableReading.SByte(__p, 14, 0);
}

/// <summary>
/// The options tables whose first field (id 0) is <c>fused_activation_function</c>: FullyConnectedOptions,
/// AddOptions, MulOptions, SubOptions, DivOptions.
/// </summary>
internal struct TfliteActivationOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public TfliteActivation Activation => (TfliteActivation)TableReading.SByte(__p, 4, 0);
}

/// <summary><c>table SoftmaxOptions</c>: beta:float(0).</summary>
internal struct TfliteSoftmaxOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public float Beta { get { int o = __p.__offset(4); return o != 0 ? __p.bb.GetFloat(o + __p.bb_pos) : 0f; } }
}

/// <summary><c>table ConcatenationOptions</c>: axis(0), fused_activation_function(1).</summary>
internal struct TfliteConcatenationOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public int Axis => TableReading.Int(__p, 4, 0);
    public TfliteActivation Activation => (TfliteActivation)TableReading.SByte(__p, 6, 0);
}

/// <summary><c>table ReshapeOptions</c>: new_shape:[int](0).</summary>
internal struct TfliteReshapeOptions : IFlatbufferObject
{
    private Table __p;
    public ByteBuffer ByteBuffer => __p.bb;
    public void __init(int i, ByteBuffer bb) => __p = new Table(i, bb);

    public int[] NewShape => TableReading.IntVector(__p, 4);
}

/// <summary>Scalar and vector field readers shared by the accessors above.</summary>
internal static class TableReading
{
    public static int Int(Table t, int slot, int defaultValue)
    {
        int o = t.__offset(slot);
        return o != 0 ? t.bb.GetInt(o + t.bb_pos) : defaultValue;
    }

    public static sbyte SByte(Table t, int slot, sbyte defaultValue)
    {
        int o = t.__offset(slot);
        return o != 0 ? t.bb.GetSbyte(o + t.bb_pos) : defaultValue;
    }

    public static int[] IntVector(Table t, int slot)
    {
        int o = t.__offset(slot);
        if (o == 0) return [];
        int start = t.__vector(o), n = t.__vector_len(o);
        var result = new int[n];
        for (int i = 0; i < n; i++) result[i] = t.bb.GetInt(start + 4 * i);
        return result;
    }
}
