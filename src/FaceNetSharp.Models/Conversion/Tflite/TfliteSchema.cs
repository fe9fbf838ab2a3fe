namespace FaceNetSharp.Models.Conversion.Tflite;

// Enum values of TensorFlow's tensorflow/lite/schema/schema.fbs (namespace tflite, file identifier "TFL3").
// Only the members this project reads are listed; the numbers are the schema's, which never change
// (the schema only appends).

/// <summary><c>enum TensorType : byte</c>.</summary>
internal enum TfliteTensorType : sbyte
{
    Float32 = 0,
    Float16 = 1,
    Int32 = 2,
    UInt8 = 3,
    Int64 = 4,
    Int8 = 9,
}

/// <summary><c>enum Padding : byte { SAME, VALID }</c>.</summary>
internal enum TflitePadding : sbyte
{
    Same = 0,
    Valid = 1,
}

/// <summary><c>enum ActivationFunctionType : byte</c>.</summary>
internal enum TfliteActivation : sbyte
{
    None = 0,
    Relu = 1,
    ReluN1To1 = 2,
    Relu6 = 3,
    Tanh = 4,
}

/// <summary><c>enum BuiltinOperator</c> (int32 since schema v3a; older files store it as a byte).</summary>
internal enum TfliteOp
{
    Add = 0,
    AveragePool2D = 1,
    Concatenation = 2,
    Conv2D = 3,
    DepthwiseConv2D = 4,
    FullyConnected = 9,
    Logistic = 14,
    MaxPool2D = 17,
    Mul = 18,
    Relu = 19,
    Relu6 = 21,
    Reshape = 22,
    Softmax = 25,
    Pad = 34,
    Transpose = 39,
    Mean = 40,
    Sub = 41,
    Div = 42,
    Squeeze = 43,
    StridedSlice = 45,
    Exp = 47,
    Prelu = 54,
    Maximum = 55,
    Neg = 59,
    Sum = 74,
    ReduceMax = 82,
    Abs = 101,
}

/// <summary>Position (1-based) of an options table in <c>union BuiltinOptions</c>; 0 means none.</summary>
internal enum TfliteOptionsType : byte
{
    None = 0,
    Conv2DOptions = 1,
    DepthwiseConv2DOptions = 2,
    Pool2DOptions = 5,
    FullyConnectedOptions = 8,
    SoftmaxOptions = 9,
    ConcatenationOptions = 10,
    AddOptions = 11,
    ReshapeOptions = 17,
    MulOptions = 21,
    SubOptions = 28,
    DivOptions = 29,
    ReducerOptions = 27,
}
