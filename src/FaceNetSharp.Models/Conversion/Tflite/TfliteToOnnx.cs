using FaceNetSharp.Models.Onnx;
using Onnx;

namespace FaceNetSharp.Models.Conversion.Tflite;

/// <summary>One graph output: the TFLite tensor (by name), the ONNX name and its ONNX dims (null = symbolic).</summary>
internal sealed record TfliteOutputMapping(string TfliteTensor, string OnnxName, long?[] Dims);

/// <summary>How to turn a TFLite graph into an ONNX one.</summary>
/// <param name="GraphName">ONNX graph name.</param>
/// <param name="InputName">ONNX input name; the input is NCHW float32.</param>
/// <param name="InputDims">ONNX input dims (NCHW), null for a symbolic one. Symbolic H or W makes "SAME" layers use
/// <c>auto_pad=SAME_UPPER</c>, which is TF's rule (extra padding after) for any size.</param>
/// <param name="SwapSpatialAxes">
/// True for the Caffe-trained MTCNN nets: the TFLite graph sees the image transposed (its "H" axis is image x), and
/// the ONNX graph takes the image in normal orientation. The swap is baked into the kernels, strides, pads and
/// flatten order, so ONNX NCHW axis 2 is image y and axis 3 image x.
/// </param>
/// <param name="Outputs">The graph outputs, in ONNX order; 4-D ones come out NCHW.</param>
internal sealed record TfliteConversion(
    string GraphName,
    string InputName,
    long?[] InputDims,
    bool SwapSpatialAxes,
    IReadOnlyList<TfliteOutputMapping> Outputs);

/// <summary>
/// Converts a float32 TFLite graph (NHWC) into an ONNX graph (NCHW) by walking its operators in order.
/// Supported: CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D, FULLY_CONNECTED, RESHAPE, SOFTMAX, ADD, SUB,
/// MUL, DIV, RELU, RELU6, NEG, ABS, EXP, LOGISTIC, plus two PReLU idioms and the max/sub/exp/sum/div softmax
/// idiom (fused into one ONNX PRelu / Softmax node). Anything else is a clear <see cref="NotSupportedException"/>.
/// </summary>
internal static class TfliteToOnnx
{
    public static byte[] Convert(TfliteFile file, TfliteConversion conversion, IReadOnlyDictionary<string, string>? metadata = null) =>
        new Emitter(file, conversion).Run(metadata);

    /// <summary>An ONNX tensor standing for a TFLite activation. <c>Nchw</c>: a 4-D tensor held in ONNX layout.</summary>
    private readonly record struct Value(string Name, bool Nchw);

    private sealed class Emitter
    {
        private readonly TfliteFile _f;
        private readonly TfliteConversion _c;
        private readonly OnnxGraphBuilder _b;
        private readonly Dictionary<int, Value> _values = new();
        private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
        private readonly int[] _consumers;

        // ONNX axis i of a 4-D activation holds TFLite axis ToTflite[i]; TFLite axis j sits at ONNX axis ToOnnx[j].
        private readonly int[] _fromTflite; // perm for Transpose(NHWC -> NCHW)
        private readonly int[] _toTflite;   // perm for Transpose(NCHW -> NHWC)
        private readonly bool _dynamicSpatial;

        public Emitter(TfliteFile f, TfliteConversion c)
        {
            _f = f;
            _c = c;
            _b = new OnnxGraphBuilder(c.GraphName);
            // Normal: NHWC -> NCHW is perm (0,3,1,2). Swapped (MTCNN): TFLite (n, x, y, c) -> ONNX (n, c, y, x) is
            // perm (0,3,2,1), its own inverse.
            _fromTflite = c.SwapSpatialAxes ? [0, 3, 2, 1] : [0, 3, 1, 2];
            _toTflite = c.SwapSpatialAxes ? [0, 3, 2, 1] : [0, 2, 3, 1];
            _dynamicSpatial = c.InputDims.Length == 4 && (c.InputDims[2] is null || c.InputDims[3] is null);
            _consumers = new int[f.Tensors.Count];
            foreach (var op in f.Operators)
                foreach (var i in op.Inputs) if (i >= 0) _consumers[i]++;
            foreach (var o in f.Outputs) _consumers[o]++;
        }

        public byte[] Run(IReadOnlyDictionary<string, string>? metadata)
        {
            if (_f.Inputs.Length != 1) throw new NotSupportedException($"{_c.GraphName}: expected one graph input, found {_f.Inputs.Length}");
            var inputTensor = _f.Tensors[_f.Inputs[0]];
            _b.Input(_c.InputName, _c.InputDims);
            _values[inputTensor.Index] = new Value(_c.InputName, Nchw: inputTensor.Shape.Length == 4);

            var ops = _f.Operators;
            for (int i = 0; i < ops.Count;)
            {
                int used = TryPReluReluNeg(i) ?? TryPReluAbs(i) ?? TrySoftmaxIdiom(i) ?? EmitOne(ops[i]);
                i += used;
            }

            var wanted = _f.Outputs.Select(o => _f.Tensors[o].Name).ToHashSet(StringComparer.Ordinal);
            foreach (var m in _c.Outputs)
            {
                var t = _f.Tensors.FirstOrDefault(x => x.Name == m.TfliteTensor)
                    ?? throw new InvalidDataException($"{_c.GraphName}: TFLite tensor '{m.TfliteTensor}' not found");
                if (!wanted.Remove(m.TfliteTensor))
                    throw new InvalidDataException($"{_c.GraphName}: '{m.TfliteTensor}' is not a graph output");
                _b.Output(_values[t.Index].Name, m.OnnxName, m.Dims);
            }
            if (wanted.Count > 0)
                throw new InvalidDataException($"{_c.GraphName}: TFLite outputs not mapped: {string.Join(", ", wanted)}");
            return _b.ToBytes("FaceNetSharp", metadata);
        }

        // ---- idioms ---------------------------------------------------------------------------------------------

        /// <summary>
        /// facenet's PReLU as TOCO wrote it: relu(x) + alpha * (-relu(-x)), six ops:
        /// RELU(x)=r, NEG(x)=n, RELU(n)=r1, NEG(r1)=n1, MUL(alpha, n1)=m, ADD(r, m)=y.
        /// </summary>
        private int? TryPReluReluNeg(int i)
        {
            if (!Match(i, TfliteOp.Relu, TfliteOp.Neg, TfliteOp.Relu, TfliteOp.Neg, TfliteOp.Mul, TfliteOp.Add)) return null;
            var ops = _f.Operators;
            int x = ops[i].Inputs[0], r = ops[i].Outputs[0];
            if (ops[i + 1].Inputs[0] != x) return null;
            int n = ops[i + 1].Outputs[0];
            if (ops[i + 2].Inputs[0] != n) return null;
            int r1 = ops[i + 2].Outputs[0];
            if (ops[i + 3].Inputs[0] != r1) return null;
            int n1 = ops[i + 3].Outputs[0];
            var alpha = OtherInput(ops[i + 4], n1);
            if (alpha is null || _f.Tensors[alpha.Value].Data is null) return null;
            int m = ops[i + 4].Outputs[0];
            if (OtherInput(ops[i + 5], m) != r) return null;
            if (!Private(r, n, r1, n1, m) || HasActivation(ops[i + 4]) || HasActivation(ops[i + 5])) return null;
            EmitPRelu(x, _f.Tensors[alpha.Value].Data!, ops[i + 5].Outputs[0]);
            return 6;
        }

        /// <summary>
        /// MobileFaceNet's PReLU: relu(x) + m * (x - |x|), five ops: RELU(x)=r, ABS(x)=a, SUB(x, a)=s, MUL(m, s)=p,
        /// ADD(r, p)=y. For x &lt; 0 this is 2m·x, so the PReLU slope is 2m (MODELS.md, MobileFaceNet).
        /// </summary>
        private int? TryPReluAbs(int i)
        {
            if (!Match(i, TfliteOp.Relu, TfliteOp.Abs, TfliteOp.Sub, TfliteOp.Mul, TfliteOp.Add)) return null;
            var ops = _f.Operators;
            int x = ops[i].Inputs[0], r = ops[i].Outputs[0];
            if (ops[i + 1].Inputs[0] != x) return null;
            int a = ops[i + 1].Outputs[0];
            if (ops[i + 2].Inputs is not [var sx, var sa] || sx != x || sa != a) return null;
            int s = ops[i + 2].Outputs[0];
            var mul = OtherInput(ops[i + 3], s);
            if (mul is null || _f.Tensors[mul.Value].Data is null) return null;
            int p = ops[i + 3].Outputs[0];
            if (OtherInput(ops[i + 4], p) != r) return null;
            if (!Private(r, a, s, p) || HasActivation(ops[i + 2]) || HasActivation(ops[i + 3]) || HasActivation(ops[i + 4])) return null;
            var slope = _f.Tensors[mul.Value].Data!.Select(v => 2f * v).ToArray();
            EmitPRelu(x, slope, ops[i + 4].Outputs[0]);
            return 5;
        }

        /// <summary>Softmax over the last TFLite axis written out: REDUCE_MAX, SUB, EXP, SUM, DIV.</summary>
        private int? TrySoftmaxIdiom(int i)
        {
            if (!Match(i, TfliteOp.ReduceMax, TfliteOp.Sub, TfliteOp.Exp, TfliteOp.Sum, TfliteOp.Div)) return null;
            var ops = _f.Operators;
            int x = ops[i].Inputs[0], mx = ops[i].Outputs[0];
            int rank = _f.Tensors[x].Shape.Length;
            if (!IsLastAxis(ops[i].Inputs[1], rank) || !IsLastAxis(ops[i + 3].Inputs[1], rank)) return null;
            if (ops[i + 1].Inputs is not [var sx, var sm] || sx != x || sm != mx) return null;
            int s = ops[i + 1].Outputs[0];
            if (ops[i + 2].Inputs[0] != s) return null;
            int e = ops[i + 2].Outputs[0];
            if (ops[i + 3].Inputs[0] != e) return null;
            int sum = ops[i + 3].Outputs[0];
            if (ops[i + 4].Inputs is not [var de, var ds] || de != e || ds != sum) return null;
            if (!Private(mx, s, sum) || _consumers[e] != 2) return null;
            var v = Get(x);
            int axis = v.Nchw ? _fromTflite.AsSpan().IndexOf(rank - 1) : rank - 1;
            Set(ops[i + 4].Outputs[0], new Value(_b.Softmax(v.Name, axis), v.Nchw));
            return 5;
        }

        private bool IsLastAxis(int axesTensor, int rank) =>
            _f.Tensors[axesTensor].Data is [var a] && ((int)a == rank - 1 || (int)a == -1);

        private void EmitPRelu(int x, float[] slope, int output)
        {
            var v = Get(x);
            var slopeName = ConstantFor(_f.Tensors[x].Name + "/prelu_slope", slope, [slope.Length], v.Nchw);
            Set(output, new Value(_b.PRelu(v.Name, slopeName), v.Nchw));
        }

        private bool Match(int i, params TfliteOp[] codes)
        {
            if (i + codes.Length > _f.Operators.Count) return false;
            for (int k = 0; k < codes.Length; k++)
                if (_f.Operators[i + k].Code != codes[k]) return false;
            return true;
        }

        /// <summary>The input of a two-input op that is not <paramref name="known"/>; null when the op doesn't use it.</summary>
        private static int? OtherInput(TfliteOperatorInfo op, int known) => op.Inputs switch
        {
            [var a, var b] when a == known => b,
            [var a, var b] when b == known => a,
            _ => null,
        };

        /// <summary>True when each tensor is consumed once (inside the idiom) and is not a graph output.</summary>
        private bool Private(params int[] tensors) => tensors.All(t => _consumers[t] == 1 && !_f.Outputs.Contains(t));

        private static bool HasActivation(TfliteOperatorInfo op) =>
            op.Raw.BuiltinOptions<TfliteActivationOptions>() is { } o && o.Activation != TfliteActivation.None;

        // ---- single operators -----------------------------------------------------------------------------------

        private int EmitOne(TfliteOperatorInfo op)
        {
            switch (op.Code)
            {
                case TfliteOp.Conv2D: Conv(op, depthwise: false); break;
                case TfliteOp.DepthwiseConv2D: Conv(op, depthwise: true); break;
                case TfliteOp.MaxPool2D: Pool(op, "MaxPool"); break;
                case TfliteOp.AveragePool2D: Pool(op, "AveragePool"); break;
                case TfliteOp.FullyConnected: FullyConnected(op); break;
                case TfliteOp.Reshape: Reshape(op); break;
                case TfliteOp.Softmax: Softmax(op); break;
                case TfliteOp.Add: Binary(op, "Add"); break;
                case TfliteOp.Sub: Binary(op, "Sub"); break;
                case TfliteOp.Mul: Binary(op, "Mul"); break;
                case TfliteOp.Div: Binary(op, "Div"); break;
                case TfliteOp.Relu: Unary(op, "Relu"); break;
                case TfliteOp.Neg: Unary(op, "Neg"); break;
                case TfliteOp.Abs: Unary(op, "Abs"); break;
                case TfliteOp.Exp: Unary(op, "Exp"); break;
                case TfliteOp.Logistic: Unary(op, "Sigmoid"); break;
                case TfliteOp.Relu6:
                {
                    var v = Get(op.Inputs[0]);
                    Set(op.Outputs[0], new Value(Relu6(v.Name), v.Nchw));
                    break;
                }
                default:
                    throw new NotSupportedException($"{_c.GraphName}: TFLite operator {op.Code} (#{op.Index}) is not supported by the converter");
            }
            return 1;
        }

        private void Conv(TfliteOperatorInfo op, bool depthwise)
        {
            var x = Get(op.Inputs[0]);
            if (!x.Nchw) throw new NotSupportedException($"{_c.GraphName}: convolution #{op.Index} on a non-4-D tensor");
            var inShape = _f.Tensors[op.Inputs[0]].Shape;
            var wt = _f.Tensors[op.Inputs[1]];
            TflitePadding padding;
            TfliteActivation act;
            int sh, sw, dh, dw, group;
            string w;
            if (depthwise)
            {
                var o = op.Raw.BuiltinOptions<TfliteDepthwiseConv2DOptions>()!.Value;
                (padding, sh, sw, dh, dw, act) = (o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Activation);
                // [1, kh, kw, C*mult] -> ONNX [C*mult, 1, kH, kW] with group = C (input channels).
                w = Constant(op.Inputs[1], [3, 0, _fromTflite[2], _fromTflite[3]]);
                group = inShape[3];
            }
            else
            {
                var o = op.Raw.BuiltinOptions<TfliteConv2DOptions>()!.Value;
                (padding, sh, sw, dh, dw, act) = (o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Activation);
                // OHWI -> OIHW (with the H/W swap when asked): the activation permutation applies as is.
                w = Constant(op.Inputs[1], _fromTflite);
                group = 1;
            }
            // Per TFLite axis (1 = H, 2 = W): kernel, stride, dilation.
            int[] k = [0, wt.Shape[1], wt.Shape[2], 0], s = [0, sh, sw, 0], d = [0, dh, dw, 0];
            var inputs = new List<string> { x.Name, w };
            if (op.Inputs.Length > 2 && op.Inputs[2] >= 0) inputs.Add(Constant(op.Inputs[2], null));
            var attrs = new List<AttributeProto>
            {
                OnnxGraphBuilder.Ints("kernel_shape", k[_fromTflite[2]], k[_fromTflite[3]]),
                OnnxGraphBuilder.Ints("strides", s[_fromTflite[2]], s[_fromTflite[3]]),
                OnnxGraphBuilder.Ints("dilations", d[_fromTflite[2]], d[_fromTflite[3]]),
                OnnxGraphBuilder.Int("group", group),
                PadAttribute(padding, inShape, k, s, d),
            };
            var y = _b.Node("Conv", [.. inputs], null, [.. attrs]);
            Set(op.Outputs[0], new Value(Activate(y, act), true));
        }

        private void Pool(TfliteOperatorInfo op, string onnxOp)
        {
            var x = Get(op.Inputs[0]);
            var o = op.Raw.BuiltinOptions<TflitePool2DOptions>()!.Value;
            var inShape = _f.Tensors[op.Inputs[0]].Shape;
            int[] k = [0, o.FilterHeight, o.FilterWidth, 0], s = [0, o.StrideH, o.StrideW, 0], d = [0, 1, 1, 0];
            var attrs = new List<AttributeProto>
            {
                OnnxGraphBuilder.Ints("kernel_shape", k[_fromTflite[2]], k[_fromTflite[3]]),
                OnnxGraphBuilder.Ints("strides", s[_fromTflite[2]], s[_fromTflite[3]]),
                PadAttribute(o.Padding, inShape, k, s, d),
            };
            // TF's SAME average pooling divides by the number of real (unpadded) pixels.
            if (onnxOp == "AveragePool") attrs.Add(OnnxGraphBuilder.Int("count_include_pad", 0));
            var y = _b.Node(onnxOp, [x.Name], null, [.. attrs]);
            Set(op.Outputs[0], new Value(Activate(y, o.Activation), true));
        }

        /// <summary>
        /// TF padding as ONNX pads [y_begin, x_begin, y_end, x_end]. SAME: out = ceil(in / stride), total padding
        /// max((out - 1)·stride + (k - 1)·dilation + 1 - in, 0), the odd pixel after (0 before, 1 after for the
        /// usual stride-2 case: MODELS.md). With a symbolic input size the sizes are unknown here, so SAME becomes
        /// auto_pad=SAME_UPPER, the same rule evaluated by the runtime.
        /// </summary>
        private AttributeProto PadAttribute(TflitePadding padding, int[] inShape, int[] k, int[] s, int[] d)
        {
            if (padding == TflitePadding.Valid) return OnnxGraphBuilder.Ints("pads", 0, 0, 0, 0);
            if (_dynamicSpatial)
                return new AttributeProto
                {
                    Name = "auto_pad",
                    Type = AttributeProto.Types.AttributeType.String,
                    S = Google.Protobuf.ByteString.CopyFromUtf8("SAME_UPPER"),
                };
            var before = new long[2];
            var after = new long[2];
            for (int i = 0; i < 2; i++)
            {
                int t = _fromTflite[2 + i];
                int input = inShape[t];
                int output = (input + s[t] - 1) / s[t];
                int total = Math.Max((output - 1) * s[t] + (k[t] - 1) * d[t] + 1 - input, 0);
                before[i] = total / 2;
                after[i] = total - total / 2;
            }
            return OnnxGraphBuilder.Ints("pads", before[0], before[1], after[0], after[1]);
        }

        private void FullyConnected(TfliteOperatorInfo op)
        {
            var x = Get(op.Inputs[0]);
            // TFLite flattens the input in its own (NHWC, possibly transposed-image) order: go back to it first.
            var flat = x.Nchw ? _b.Flatten(_b.Transpose(x.Name, [.. _toTflite.Select(a => (long)a)]), 1)
                : _f.Tensors[op.Inputs[0]].Shape.Length == 2 ? x.Name : _b.Flatten(x.Name, 1);
            var w = Constant(op.Inputs[1], null);
            int outFeatures = _f.Tensors[op.Inputs[1]].Shape[0];
            var bias = op.Inputs.Length > 2 && op.Inputs[2] >= 0
                ? Constant(op.Inputs[2], null)
                : _b.Initializer(_b.Fresh("zero_bias"), new float[outFeatures], outFeatures);
            var y = _b.Gemm(flat, w, bias);
            var act = op.Raw.BuiltinOptions<TfliteActivationOptions>()?.Activation ?? TfliteActivation.None;
            Set(op.Outputs[0], new Value(Activate(y, act), false));
        }

        private void Reshape(TfliteOperatorInfo op)
        {
            var x = Get(op.Inputs[0]);
            var src = x.Nchw ? _b.Transpose(x.Name, [.. _toTflite.Select(a => (long)a)]) : x.Name;
            var outShape = _f.Tensors[op.Outputs[0]].Shape;
            if (outShape.Length == 4)
                throw new NotSupportedException($"{_c.GraphName}: RESHAPE #{op.Index} to 4-D is not supported");
            // The TFLite graph has a fixed batch; 0 copies the batch of the actual input (ONNX Reshape, allowzero=0).
            var shape = outShape.Select((v, i) => i == 0 ? 0L : v).ToArray();
            var shapeName = _b.InitializerInt64(_b.Fresh("shape"), shape, shape.Length);
            Set(op.Outputs[0], new Value(_b.Node("Reshape", [src, shapeName]), false));
        }

        private void Softmax(TfliteOperatorInfo op)
        {
            var x = Get(op.Inputs[0]);
            var beta = op.Raw.BuiltinOptions<TfliteSoftmaxOptions>()?.Beta ?? 1f;
            int rank = _f.Tensors[op.Inputs[0]].Shape.Length;
            int axis = x.Nchw ? Array.IndexOf(_fromTflite, rank - 1) : rank - 1;
            var input = x.Name;
            if (beta != 1f) input = _b.Mul(input, _b.Initializer(_b.Fresh("beta"), [beta]));
            Set(op.Outputs[0], new Value(_b.Softmax(input, axis), x.Nchw));
        }

        private void Binary(TfliteOperatorInfo op, string onnxOp)
        {
            int a = op.Inputs[0], c = op.Inputs[1];
            bool nchw = IsNchw(a) || IsNchw(c);
            string Operand(int t) => _f.Tensors[t].Data is { } data
                ? ConstantFor(_f.Tensors[t].Name, data, _f.Tensors[t].Shape, nchw)
                : Get(t) is var v && v.Nchw == nchw ? v.Name
                : throw new NotSupportedException($"{_c.GraphName}: {op.Code} #{op.Index} mixes 4-D and other tensors");
            var y = _b.Node(onnxOp, [Operand(a), Operand(c)]);
            var act = op.Raw.BuiltinOptions<TfliteActivationOptions>()?.Activation ?? TfliteActivation.None;
            Set(op.Outputs[0], new Value(Activate(y, act), nchw));
        }

        private bool IsNchw(int t) => _f.Tensors[t].Data is null && Get(t).Nchw;

        private void Unary(TfliteOperatorInfo op, string onnxOp)
        {
            var v = Get(op.Inputs[0]);
            Set(op.Outputs[0], new Value(_b.Node(onnxOp, [v.Name]), v.Nchw));
        }

        private string Activate(string y, TfliteActivation act) => act switch
        {
            TfliteActivation.None => y,
            TfliteActivation.Relu => _b.Relu(y),
            TfliteActivation.Relu6 => Relu6(y),
            TfliteActivation.Tanh => _b.Node("Tanh", [y]),
            _ => throw new NotSupportedException($"{_c.GraphName}: fused activation {act} is not supported"),
        };

        private string Relu6(string y) =>
            _b.Node("Clip", [y, _b.Initializer(_b.Fresh("zero"), [0f]), _b.Initializer(_b.Fresh("six"), [6f])]);

        // ---- tensors --------------------------------------------------------------------------------------------

        private Value Get(int t) => _values.TryGetValue(t, out var v) ? v
            : throw new InvalidDataException($"{_c.GraphName}: tensor '{_f.Tensors[t].Name}' is used before it is computed");

        private void Set(int t, Value v) => _values[t] = v;

        /// <summary>A TFLite constant as an ONNX initializer, optionally permuted (4-D weights).</summary>
        private string Constant(int t, int[]? perm)
        {
            var info = _f.Tensors[t];
            var data = info.Data ?? throw new InvalidDataException($"{_c.GraphName}: tensor '{info.Name}' has no data");
            if (perm is null) return Initializer(info.Name, data, [.. info.Shape.Select(d => (long)d)]);
            var (permuted, shape) = Permute(data, info.Shape, perm);
            return Initializer(info.Name + "/onnx_layout", permuted, shape);
        }

        /// <summary>
        /// A constant that is broadcast against activations. Against a 4-D NCHW activation its shape is first
        /// right-aligned to rank 4 in TFLite terms (NumPy broadcasting), then permuted like the activation, so a
        /// per-channel [C] vector becomes [1, C, 1, 1].
        /// </summary>
        private string ConstantFor(string name, float[] data, int[] shape, bool nchw)
        {
            if (!nchw || data.Length == 1 || shape.Length > 4)
                return Initializer(name, data, data.Length == 1 ? [] : [.. shape.Select(d => (long)d)]);
            var full = Enumerable.Repeat(1, 4 - shape.Length).Concat(shape).ToArray();
            var (permuted, newShape) = Permute(data, full, _fromTflite);
            return Initializer(name + "/nchw", permuted, newShape);
        }

        private string Initializer(string name, float[] data, long[] shape)
        {
            if (_constants.TryGetValue(name, out var existing)) return existing;
            _b.Initializer(name, data, shape);
            _constants[name] = name;
            return name;
        }
    }

    /// <summary>Transposes a dense row-major tensor: result axis i is source axis <paramref name="perm"/>[i].</summary>
    internal static (float[] Data, long[] Shape) Permute(float[] data, int[] shape, int[] perm)
    {
        int rank = shape.Length;
        var srcStrides = new int[rank];
        for (int i = rank - 1, st = 1; i >= 0; st *= shape[i], i--) srcStrides[i] = st;
        var newShape = perm.Select(p => shape[p]).ToArray();
        var result = new float[data.Length];
        var idx = new int[rank];
        for (int o = 0; o < result.Length; o++)
        {
            int src = 0;
            for (int i = 0; i < rank; i++) src += idx[i] * srcStrides[perm[i]];
            result[o] = data[src];
            for (int i = rank - 1; i >= 0; i--)
            {
                if (++idx[i] < newShape[i]) break;
                idx[i] = 0;
            }
        }
        return (result, [.. newShape.Select(d => (long)d)]);
    }
}
