using FaceNetSharp.Models.Onnx;

namespace FaceNetSharp.Models.Conversion.Dlib;

/// <summary>
/// Converts face-api.js's <c>faceRecognitionNet</c> (its tfjs port of dlib's
/// <c>dlib_face_recognition_resnet_model_v1</c>, a 29-layer ResNet giving 128-d descriptors) into an ONNX model.
/// <para>
/// Model input <c>"input"</c>: float32 [N, 3, 150, 150], NCHW, RGB, each channel normalised by the caller as
/// <c>(rgb - [122.782, 117.001, 104.298]) / 255</c> on a chip aligned to dlib's 150x150 template.
/// Model output <c>"embedding"</c>: float32 [N, 128], raw (not L2-normalised); compare with Euclidean distance.
/// </para>
/// <para>
/// The layer sequence and every stride/padding choice follow face-api.js's <c>FaceRecognitionNet.forwardInput</c>,
/// <c>convLayer.ts</c> and <c>residualLayer.ts</c>; tfjs is NHWC, this graph is NCHW.
/// </para>
/// </summary>
internal static class DlibResNetConverter
{
    /// <summary>Side of the square input chip (face-api.js <c>toBatchTensor(150, ...)</c>; dlib's <c>input_rgb_image_sized&lt;150&gt;</c>).</summary>
    public const int InputSize = 150;

    /// <summary>Descriptor length (face-api.js <c>fc</c> weight is [256, 128]).</summary>
    public const int EmbeddingSize = 128;

    /// <summary>Per-channel RGB mean subtracted before scaling (face-api.js <c>meanRgb</c>, from dlib's input layer).</summary>
    public static ReadOnlySpan<float> MeanRgb => [122.782f, 117.001f, 104.298f];

    /// <summary>
    /// Divisor applied after mean subtraction. docs/MODELS.md and the golden data (pipeline_hopkins.json,
    /// key faceapi_dlib_128) use 255. Note face-api.js's <c>forwardInput</c> (and dlib's input layer) divide by 256;
    /// the two choices differ by 0.4% in input scale, which moves descriptors by under 1e-3, so only a tight parity
    /// tolerance tells them apart.
    /// </summary>
    public const float InputScale = 255f;

    /// <summary>Builds the ONNX model from the manifest JSON and the concatenated weight shard(s).</summary>
    public static byte[] Convert(byte[] manifestJson, byte[] weightsBin)
    {
        var w = TfjsWeights.Read(manifestJson, weightsBin);
        var g = new Graph(new OnnxGraphBuilder("dlib_resnet_128"), w);

        var x = g.B.Input("input", null, 3, InputSize, InputSize);             // N x 3 x 150 x 150
        int size = InputSize;

        // convDown: 7x7, stride 2, 'valid', ReLU.
        x = g.ConvLayer(x, "conv32_down", stride: 2, same: false, relu: true); // N x 32 x 72 x 72
        size = ValidOut(size, 7, 2);
        // tf.maxPool(out, 3, 2, 'valid').
        x = g.B.MaxPool(x, kernel: 3, stride: 2);                               // N x 32 x 35 x 35
        size = ValidOut(size, 3, 2);

        x = g.Residual(x, "conv32_1");
        x = g.Residual(x, "conv32_2");
        x = g.Residual(x, "conv32_3");

        x = g.ResidualDown(x, "conv64_down", ref size);                         // N x 64 x 17 x 17
        x = g.Residual(x, "conv64_1");
        x = g.Residual(x, "conv64_2");
        x = g.Residual(x, "conv64_3");

        x = g.ResidualDown(x, "conv128_down", ref size);                        // N x 128 x 8 x 8
        x = g.Residual(x, "conv128_1");
        x = g.Residual(x, "conv128_2");

        x = g.ResidualDown(x, "conv256_down", ref size);                        // N x 256 x 4 x 4
        x = g.Residual(x, "conv256_1");
        x = g.Residual(x, "conv256_2");
        x = g.ResidualDown(x, "conv256_down_out", ref size);                    // N x 256 x 2 x 2

        // out.mean([1, 2]) over the spatial axes, then matMul with fc [256, 128] (no bias).
        x = g.B.Node("GlobalAveragePool", [x]);                                 // N x 256 x 1 x 1
        x = g.B.Flatten(x);                                                     // N x 256
        var fc = g.Get("fc", 256, EmbeddingSize);
        var fcW = g.B.Initializer("fc", fc.Data, 256, EmbeddingSize);
        x = g.B.Node("MatMul", [x, fcW]);                                       // N x 128
        g.B.Output(x, "embedding", null, EmbeddingSize);

        return g.B.ToBytes("FaceNetSharp", new Dictionary<string, string>
        {
            ["source"] = "face-api.js faceRecognitionNet (dlib_face_recognition_resnet_model_v1), tfjs weights",
            ["input"] = "float32 [N,3,150,150] NCHW RGB, (rgb - [122.782,117.001,104.298]) / 255",
            ["output"] = "float32 [N,128] raw descriptor (not L2-normalised), Euclidean distance",
        });
    }

    /// <summary>Output side of a 'valid' window: floor((in - k) / s) + 1.</summary>
    private static int ValidOut(int size, int kernel, int stride) => (size - kernel) / stride + 1;

    private sealed class Graph(OnnxGraphBuilder builder, Dictionary<string, TfjsTensor> weights)
    {
        public OnnxGraphBuilder B { get; } = builder;

        public TfjsTensor Get(string name, params int[] shape)
        {
            if (!weights.TryGetValue(name, out var t))
                throw new InvalidDataException($"dlib ResNet weights: '{name}' is missing from the manifest");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException(
                    $"dlib ResNet weights: '{name}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}]");
            return t;
        }

        /// <summary>
        /// face-api.js convLayer: conv2d (tfjs HWIO filters) + bias, then the scale layer <c>x * weights + biases</c>,
        /// optionally ReLU. The scale is folded into the convolution:
        /// W'[o] = W[o] * s[o], b' = b * s + t.
        /// 'same' is only used with 3x3 stride 1 here, which pads 1 on every side.
        /// </summary>
        public string ConvLayer(string x, string prefix, int stride, bool same, bool relu)
        {
            var filters = weights.GetValueOrDefault(prefix + "/conv/filters")
                ?? throw new InvalidDataException($"dlib ResNet weights: '{prefix}/conv/filters' is missing from the manifest");
            if (filters.Shape.Length != 4)
                throw new InvalidDataException($"dlib ResNet weights: '{prefix}/conv/filters' is not 4-D");
            int kh = filters.Shape[0], kw = filters.Shape[1], cin = filters.Shape[2], cout = filters.Shape[3];
            var bias = Get(prefix + "/conv/bias", cout).Data;
            var s = Get(prefix + "/scale/weights", cout).Data;
            var t = Get(prefix + "/scale/biases", cout).Data;

            // HWIO -> OIHW with the per-output-channel scale applied.
            var oihw = new float[filters.Data.Length];
            for (int h = 0; h < kh; h++)
                for (int ww = 0; ww < kw; ww++)
                    for (int i = 0; i < cin; i++)
                        for (int o = 0; o < cout; o++)
                            oihw[((o * cin + i) * kh + h) * kw + ww] = filters.Data[((h * kw + ww) * cin + i) * cout + o] * s[o];
            var b = new float[cout];
            for (int o = 0; o < cout; o++) b[o] = (float)((double)bias[o] * s[o] + t[o]);

            if (same && (kh != 3 || kw != 3 || stride != 1))
                throw new InvalidDataException($"dlib ResNet weights: '{prefix}' is {kh}x{kw}/{stride} 'same', expected 3x3/1");
            long p = same ? 1 : 0;
            var wName = B.Initializer(prefix + "/W", oihw, cout, cin, kh, kw);
            var bName = B.Initializer(prefix + "/B", b, cout);
            var y = B.Conv(x, wName, bName, stride, [p, p, p, p]);
            return relu ? B.Relu(y) : y;
        }

        /// <summary>face-api.js residual: relu(convNoRelu(conv(x)) + x), both 3x3 'same' stride 1.</summary>
        public string Residual(string x, string prefix)
        {
            var y = ConvLayer(x, prefix + "/conv1", stride: 1, same: true, relu: true);
            y = ConvLayer(y, prefix + "/conv2", stride: 1, same: true, relu: false);
            return B.Relu(B.Add(y, x));
        }

        /// <summary>
        /// face-api.js residualDown: the main path is a 3x3 stride-2 'valid' conv (ReLU) then a 3x3 'same' conv;
        /// the shortcut is a 2x2 stride-2 'valid' average pool, zero-padded on the channel axis up to the main
        /// path's channels. Where the pooled side is larger (odd input: 8 -> conv 3, pool 4), one zero row is
        /// appended at the bottom and one zero column at the right of the main path before the sum.
        /// </summary>
        public string ResidualDown(string x, string prefix, ref int size)
        {
            int cin = weights.GetValueOrDefault(prefix + "/conv1/conv/filters")?.Shape[2]
                ?? throw new InvalidDataException($"dlib ResNet weights: '{prefix}/conv1/conv/filters' is missing from the manifest");
            var y = ConvLayer(x, prefix + "/conv1", stride: 2, same: false, relu: true);
            y = ConvLayer(y, prefix + "/conv2", stride: 1, same: true, relu: false);
            int cout = weights[prefix + "/conv2/conv/filters"].Shape[3];
            int convSize = ValidOut(size, 3, 2);
            int poolSize = ValidOut(size, 2, 2);

            var pooled = B.AveragePool(x, kernel: 2, stride: 2);
            if (cout != cin)
                pooled = B.Pad(pooled, [0, 0, 0, 0, 0, cout - cin, 0, 0]);   // zeros appended after the input channels
            if (convSize != poolSize)
            {
                if (poolSize != convSize + 1)
                    throw new InvalidOperationException($"{prefix}: conv side {convSize} vs pool side {poolSize}");
                y = B.Pad(y, [0, 0, 0, 0, 0, 0, 1, 1]);                     // one zero row (bottom) and column (right)
            }
            size = poolSize;
            return B.Relu(B.Add(pooled, y));
        }
    }
}
