using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FaceNetSharp.Diagnostics;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FaceNetSharp.Detection;

/// <summary>
/// MTCNN (Zhang et al. 2016) as facenet runs it: P-Net over an image pyramid, then R-Net and O-Net on crops of the
/// surviving candidates, each batched over all candidates of the image. Networks run on ONNX Runtime.
/// Thread-safe: one instance may serve several images at once (ONNX Runtime sessions allow concurrent Run calls).
/// </summary>
/// <remarks>
/// Memory, per <see cref="Detect"/> call in flight, besides the caller's image (3 bytes a pixel): one pyramid level at a
/// time as uint8 (at most 0.36 x 3 bytes per image pixel: the first level is 0.6 x 0.6 of the image), one P-Net band
/// of at most <see cref="MtcnnOptions.PNetBandPixels"/> level pixels (its input tensor, 12 bytes a pixel, and ONNX
/// Runtime's working memory, measured about 200 bytes a pixel: about 13 MB at the default 2^16), and one R-Net or
/// O-Net batch (at most MaxBatch crops, 0.9 MB of input for O-Net at 32, plus its working memory); the candidate lists
/// are small. Measured with scripts/detection-memory.sh (bands of 2^18 and batches of 256 then): `facenet detect` on
/// 40-Mpx images peaks at 350-370 MB RSS, about 100 MB of which is the runtime and the networks; managed allocation
/// per warm Detect on 2 Mpx is 0.4 MiB. `facenet align` on 1080p frames with 2 workers: 222 MB with the defaults.
/// The three sessions draw on one shared ONNX Runtime arena (OnnxSessions' shared CPU arena), and their PRelu nodes are
/// rewritten before loading (<see cref="PReluRewrite"/>: the same floats, vectorised; its extra intermediate tensors
/// are why the arena is shared): 20 1080p frames, 2 workers, peak 230-234 MB (2026-11-30).
/// </remarks>
public sealed class MtcnnDetector : IFaceDetector, IDisposable
{
    // facenet detect_face.py: input normalised as (x - 127.5) * 0.0078125.
    private const float Mean = 127.5f;
    private const float Scale = 0.0078125f;
    // facenet detect_face.py: R-Net takes 24x24 crops, O-Net 48x48.
    private const int RNetSize = 24;
    private const int ONetSize = 48;
    // facenet detect_face.py: NMS 0.5 (union) inside one scale, 0.7 (union) over all scales and after R-Net,
    // 0.7 ('Min') after O-Net.
    private const double NmsWithinScale = 0.5;
    private const double NmsAcrossScales = 0.7;
    private const double NmsAfterRNet = 0.7;
    private const double NmsAfterONet = 0.7;

    // P-Net's receptive field beyond its stride: a band of 2n + 10 input rows gives n output rows (ScanLevel).
    private const int PNetOverlapRows = MtcnnMath.PNetCellSize - MtcnnMath.PNetStride;
    private static readonly string[] InputNames = ["input"];
    private static readonly string[] PNetOutputNames = ["reg", "prob"];
    private static readonly string[] RNetOutputNames = ["prob", "reg"];
    private static readonly string[] ONetOutputNames = ["prob", "reg", "landmarks"];

    private readonly InferenceSession _pnet, _rnet, _onet;
    private readonly MtcnnOptions _options;

    /// <summary>
    /// Loads the three networks from ONNX files (the layout <see cref="ModelStore"/> holds), each checked against the
    /// SHA-256 of its card where one lies beside it.
    /// </summary>
    public MtcnnDetector(string pnetPath, string rnetPath, string onetPath, MtcnnOptions? options = null)
        : this(so => OnnxSessions.Open(pnetPath, so, PReluRewrite.Rewrite), so => OnnxSessions.Open(rnetPath, so, PReluRewrite.Rewrite),
            so => OnnxSessions.Open(onetPath, so, PReluRewrite.Rewrite), options)
    {
    }

    /// <summary>
    /// Loads the three networks from streams of ONNX bytes (an app that ships the models as resources), read to their
    /// end here; the caller keeps ownership of the streams. The networks are the ones a <see cref="ModelStore"/> holds
    /// as mtcnn-pnet/rnet/onet.onnx (inputs and outputs: <see cref="ModelNames"/>).
    /// </summary>
    public MtcnnDetector(Stream pnet, Stream rnet, Stream onet, MtcnnOptions? options = null)
        : this(so => OnnxSessions.Open(pnet, ModelNames.MtcnnPNet, null, so, PReluRewrite.Rewrite),
            so => OnnxSessions.Open(rnet, ModelNames.MtcnnRNet, null, so, PReluRewrite.Rewrite),
            so => OnnxSessions.Open(onet, ModelNames.MtcnnONet, null, so, PReluRewrite.Rewrite), options)
    {
    }

    private MtcnnDetector(Func<SessionOptions, InferenceSession> pnet, Func<SessionOptions, InferenceSession> rnet,
        Func<SessionOptions, InferenceSession> onet, MtcnnOptions? options)
    {
        _options = options ?? new MtcnnOptions();
        _options.Validate();
        using var so = OnnxSessions.CreateOptions(_options.Inference, MtcnnOptions.DefaultIntraOpThreads, sharedCpuArena: true);
        // R-Net and O-Net load on a thread of their own while P-Net loads here (each load is a SHA-256 check, the PRelu
        // rewrite and ONNX Runtime's graph optimisation, all single-threaded): `facenet align`'s start-up, 120-150 ms of
        // loading one after the other on this machine, overlaps on 2 cores. ONNX Runtime creates sessions concurrently.
        InferenceSession? r = null, o = null;
        Exception? fault = null;
        var second = new Thread(() =>
        {
            try
            {
                r = rnet(so);
                o = onet(so);
            }
            catch (Exception e)
            {
                fault = e;
            }
        }) { IsBackground = true, Name = "mtcnn load" };
        second.Start();
        InferenceSession? p = null;
        try
        {
            p = pnet(so);
        }
        finally
        {
            second.Join();
            if (p is null || fault is not null)
            {
                p?.Dispose();
                r?.Dispose();
                o?.Dispose();
            }
        }
        if (fault is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
        (_pnet, _rnet, _onet) = (p, r!, o!);
    }

    /// <summary>
    /// Opens the detector from a model store; missing MTCNN models are installed first by the store's
    /// <see cref="ModelStore.Installer"/>, or are a <see cref="ModelInstallException"/> where it has none.
    /// </summary>
    public static MtcnnDetector FromStore(ModelStore store, MtcnnOptions? options = null, IProgress<string>? log = null)
    {
        store.EnsureInstalled([ModelNames.MtcnnPNet, ModelNames.MtcnnRNet, ModelNames.MtcnnONet], log);
        return new MtcnnDetector(
            store.PathOf(ModelNames.MtcnnPNet), store.PathOf(ModelNames.MtcnnRNet), store.PathOf(ModelNames.MtcnnONet), options);
    }

    /// <summary>The options this detector was opened with.</summary>
    public MtcnnOptions Options => _options;

    private ResizeKernel Kernel => _options.Resampling == MtcnnResampling.PilBox ? ResizeKernel.PilBox : ResizeKernel.Area;

    /// <inheritdoc />
    public IReadOnlyList<DetectedFace> Detect(RgbImage image)
    {
        var candidates = RunPNet(image);
        if (candidates.Count == 0) return [];
        candidates = RunRNet(image, candidates);
        if (candidates.Count == 0) return [];
        return RunONet(image, candidates);
    }

    private List<Candidate> RunPNet(RgbImage image)
    {
        var all = new List<Candidate>();
        var level = new List<Candidate>();
        var picks = new List<int>();
        foreach (var scale in MtcnnMath.PyramidScales(image.Width, image.Height, _options.MinFaceSize, _options.ScaleFactor))
        {
            var (ws, hs) = MtcnnMath.ScaledSize(image.Width, image.Height, scale);
            level.Clear();
            ScanLevel(image, ws, hs, scale, level);
            if (level.Count == 0) continue;
            picks.Clear();
            MtcnnMath.Nms(level, NmsWithinScale, NmsMode.Union, picks);
            foreach (var i in picks) all.Add(level[i]);
        }
        if (all.Count == 0) return all;

        var kept = new List<Candidate>();
        foreach (var i in MtcnnMath.Nms(all, NmsAcrossScales, NmsMode.Union))
            kept.Add(MtcnnMath.Fix(MtcnnMath.Square(MtcnnMath.PNetRegression(all[i]))));
        return kept;
    }

    /// <summary>
    /// One pyramid level: resizes the image to <paramref name="ws"/> x <paramref name="hs"/> (held once, natively: uint8
    /// for Area, float CHW for PilBox), then runs P-Net on horizontal bands of it and appends the passing cells.
    /// </summary>
    /// <remarks>
    /// P-Net is fully convolutional with stride 2 and a 12-pixel window: output row r reads input rows 2r .. 2r+11
    /// (conv 3x3, max-pool 2x2/2, conv 3x3, conv 3x3). A band of input rows [2a, 2a + 2n + 10) therefore gives exactly
    /// output rows a .. a+n-1 of the whole level, with the same values; the last band runs to the level's bottom edge
    /// (and takes at least 12 rows more, so no band is smaller than the window). Bands hold at most
    /// <see cref="MtcnnOptions.PNetBandPixels"/> input pixels, which bounds ONNX Runtime's working memory per run.
    /// </remarks>
    private void ScanLevel(RgbImage image, int ws, int hs, double scale, List<Candidate> level)
    {
        bool area = _options.Resampling == MtcnnResampling.Area;
        using var levelBytes = area ? new NativeBuffer<byte>(checked(3 * ws * hs)) : null;
        using var levelFloats = area ? null : new NativeBuffer<float>(checked(3 * ws * hs));
        using (StageProfile.Time(StageProfile.Stage.PNetResize))
        {
            if (area)
                OpenCvResize.AreaU8(image, ws, hs, levelBytes!.Span);
            else
                ImageResize.ResizeToChw(image, PixelRect.Of(image), ws, hs, Mean, Scale, levelFloats!.Span, Kernel);
        }

        int bandOut = Math.Max(1, (_options.PNetBandPixels / ws - PNetOverlapRows) / 2); // output rows of a full band
        var lone = default(MirroredRegression);
        for (int a = 0; ; a += bandOut)
        {
            int y0 = 2 * a;
            bool last = hs - y0 < 2 * bandOut + PNetOverlapRows + MtcnnMath.PNetCellSize;
            int y1 = last ? hs : y0 + 2 * bandOut + PNetOverlapRows;
            int rows = y1 - y0;
            using (var input = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [1, 3, rows, ws]))
            {
                var chw = input.GetTensorMutableDataAsSpan<float>();
                if (area)
                    LevelBandToChw(levelBytes!.Span, ws, y0, rows, chw);
                else
                    for (int c = 0; c < 3; c++)
                        levelFloats!.Span.Slice(c * ws * hs + y0 * ws, rows * ws).CopyTo(chw.Slice(c * ws * rows, rows * ws));
                IDisposableReadOnlyCollection<OrtValue> outputs;
                using (StageProfile.Time(StageProfile.Stage.PNetRun))
                    outputs = _pnet.Run(OnnxSessions.DefaultRun, InputNames, [input], PNetOutputNames);
                using var post = StageProfile.Time(StageProfile.Stage.PNetPost);
                using var disposeOutputs = outputs;
                var regShape = outputs[0].GetTensorTypeAndShape().Shape; // 1 x 4 x H' x W'
                int mh = (int)regShape[2], mw = (int)regShape[3];
                var reg = outputs[0].GetTensorDataAsSpan<float>();
                var prob = outputs[1].GetTensorDataAsSpan<float>().Slice(mh * mw, mh * mw); // channel 1 = face
                MtcnnMath.ScanBand(prob, reg, mw, mh, a, scale, _options.PNetThreshold, level, ref lone);
            }
            if (last) break;
        }
        MtcnnMath.FinishLevel(level, 0, lone);
    }

    /// <summary>Rows <paramref name="y0"/> .. y0+rows-1 of a uint8 level, normalised into CHW planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void LevelBandToChw(ReadOnlySpan<byte> level, int ws, int y0, int rows, Span<float> chw)
    {
        int n = ws * rows;
        var src = level.Slice(3 * ws * y0, 3 * n);
        _ = chw[3 * n - 1]; // the three planes fit
        fixed (byte* s = src)
        fixed (float* r = chw)
        {
            float* g = r + n, b = r + 2 * n;
            for (int i = 0; i < n; i++)
            {
                // facenet: (im_data - 127.5) * 0.0078125, exact in float32 for uint8 values.
                r[i] = (s[3 * i] - Mean) * Scale;
                g[i] = (s[3 * i + 1] - Mean) * Scale;
                b[i] = (s[3 * i + 2] - Mean) * Scale;
            }
        }
    }

    private List<Candidate> RunRNet(RgbImage image, List<Candidate> boxes)
    {
        var passed = new List<Candidate>();
        ForEachBatch(image, boxes, RNetSize, RNetOutputNames, (outputs, start, count) =>
        {
            var prob = outputs[0].GetTensorDataAsSpan<float>();
            var reg = outputs[1].GetTensorDataAsSpan<float>();
            for (int k = 0; k < count; k++)
            {
                double score = prob[2 * k + 1];
                if (score <= _options.RNetThreshold) continue; // facenet: ipass = score > threshold
                var c = boxes[start + k];
                c.Score = score;
                c.Dx1 = reg[4 * k]; c.Dy1 = reg[4 * k + 1]; c.Dx2 = reg[4 * k + 2]; c.Dy2 = reg[4 * k + 3];
                passed.Add(c);
            }
        }, _rnet);
        if (passed.Count == 0) return passed;

        var kept = new List<Candidate>();
        foreach (var i in MtcnnMath.Nms(passed, NmsAfterRNet, NmsMode.Union))
        {
            var c = passed[i];
            kept.Add(MtcnnMath.Fix(MtcnnMath.Square(MtcnnMath.BoxRegression(c, c.Dx1, c.Dy1, c.Dx2, c.Dy2))));
        }
        return kept;
    }

    private List<DetectedFace> RunONet(RgbImage image, List<Candidate> boxes)
    {
        var passed = new List<Candidate>();
        var points = new List<Vector2[]>();
        ForEachBatch(image, boxes, ONetSize, ONetOutputNames, (outputs, start, count) =>
        {
            var prob = outputs[0].GetTensorDataAsSpan<float>();
            var reg = outputs[1].GetTensorDataAsSpan<float>();
            var lm = outputs[2].GetTensorDataAsSpan<float>();
            for (int k = 0; k < count; k++)
            {
                double score = prob[2 * k + 1];
                if (score <= _options.ONetThreshold) continue;
                var c = boxes[start + k];
                // Landmarks are relative to the crop box (detect_face.py: x = w * l[0:5] + x1 - 1, w = x2 - x1 + 1).
                double w = c.X2 - c.X1 + 1, h = c.Y2 - c.Y1 + 1;
                var p = new Vector2[5];
                for (int j = 0; j < 5; j++)
                    p[j] = new Vector2((float)(w * lm[10 * k + j] + c.X1 - 1), (float)(h * lm[10 * k + 5 + j] + c.Y1 - 1));
                var r = MtcnnMath.BoxRegression(c, reg[4 * k], reg[4 * k + 1], reg[4 * k + 2], reg[4 * k + 3]);
                r.Score = score;
                passed.Add(r);
                points.Add(p);
            }
        }, _onet);

        var faces = new List<DetectedFace>();
        foreach (var i in MtcnnMath.Nms(passed, NmsAfterONet, NmsMode.Min))
        {
            var c = passed[i];
            faces.Add(new DetectedFace(new FaceBox((float)c.X1, (float)c.Y1, (float)c.X2, (float)c.Y2), (float)c.Score, points[i]));
        }
        return faces;
    }

    private delegate void BatchHandler(IReadOnlyList<OrtValue> outputs, int start, int count);

    /// <summary>Crops every box (facenet's pad), resizes to size x size, and runs the net in batches.</summary>
    /// <remarks>Each batch tensor is allocated by ONNX Runtime's default allocator and freed when the batch is done
    /// (at most <see cref="MtcnnOptions.MaxBatch"/> x 3 x 48 x 48 floats, 0.9 MB for O-Net at 32).</remarks>
    private void ForEachBatch(RgbImage image, List<Candidate> boxes, int size, string[] outputNames, BatchHandler handle, InferenceSession net)
    {
        int per = 3 * size * size;
        for (int start = 0; start < boxes.Count; start += _options.MaxBatch)
        {
            int count = Math.Min(_options.MaxBatch, boxes.Count - start);
            using var input = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [count, 3, size, size]);
            var chw = input.GetTensorMutableDataAsSpan<float>();
            var crops = StageProfile.Time(size == RNetSize ? StageProfile.Stage.RNetCrops : StageProfile.Stage.ONetCrops);
            for (int k = 0; k < count; k++)
            {
                var region = MtcnnMath.CropFor(boxes[start + k]);
                if (_options.Resampling == MtcnnResampling.Area)
                    CropInput(image, region, size, chw.Slice(k * per, per));
                else
                    ImageResize.ResizeToChw(image, region, size, size, Mean, Scale, chw.Slice(k * per, per), Kernel);
            }
            crops.Dispose();
            IDisposableReadOnlyCollection<OrtValue> outputs;
            using (StageProfile.Time(size == RNetSize ? StageProfile.Stage.RNetRun : StageProfile.Stage.ONetRun))
                outputs = net.Run(OnnxSessions.DefaultRun, InputNames, [input], outputNames);
            using (outputs)
                handle(outputs, start, count);
        }
    }

    /// <summary>
    /// facenet's R-Net/O-Net input: the crop in a float64 zero canvas, <c>imresample(tmp, (size, size))</c> in float64,
    /// <c>(x - 127.5) * 0.0078125</c> in float64, then float32 (what the TensorFlow placeholder receives).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CropInput(RgbImage image, PixelRect region, int size, Span<float> chw)
    {
        int n = size * size;
        double[] resized = ArrayPool<double>.Shared.Rent(3 * n);
        try
        {
            OpenCvResize.AreaF64(image, region, size, size, resized);
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 3; c++)
                    chw[c * n + i] = (float)((resized[3 * i + c] - Mean) * (double)Scale);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(resized);
        }
    }

    /// <summary>Releases the three ONNX Runtime sessions; a detector is not usable after it.</summary>
    public void Dispose()
    {
        _pnet.Dispose();
        _rnet.Dispose();
        _onet.Dispose();
    }
}
