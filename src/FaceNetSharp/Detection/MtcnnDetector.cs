using System.Buffers;
using System.Numerics;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Detection;

/// <summary>
/// MTCNN (Zhang et al. 2016) as facenet runs it: P-Net over an image pyramid, then R-Net and O-Net on crops of the
/// surviving candidates, each batched over all candidates of the image. Networks run on ONNX Runtime.
/// Thread-safe: one instance may serve several images at once (ONNX Runtime sessions allow concurrent Run calls).
/// </summary>
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

    private readonly InferenceSession _pnet, _rnet, _onet;
    private readonly MtcnnOptions _options;

    /// <summary>Loads the three networks from ONNX files (the layout <see cref="ModelStore"/> installs).</summary>
    public MtcnnDetector(string pnetPath, string rnetPath, string onetPath, MtcnnOptions? options = null)
    {
        _options = options ?? new MtcnnOptions();
        _options.Validate();
        using var so = OnnxSessions.CreateOptions(_options.IntraOpThreads);
        _pnet = OnnxSessions.Open(pnetPath, so);
        try
        {
            _rnet = OnnxSessions.Open(rnetPath, so);
            _onet = OnnxSessions.Open(onetPath, so);
        }
        catch
        {
            _pnet.Dispose();
            _rnet?.Dispose();
            throw;
        }
    }

    /// <summary>Opens the detector from a model store, installing the MTCNN models first if they are missing.</summary>
    public static MtcnnDetector FromStore(ModelStore store, MtcnnOptions? options = null, IProgress<string>? log = null)
    {
        store.EnsureInstalled([ModelNames.MtcnnPNet, ModelNames.MtcnnRNet, ModelNames.MtcnnONet], log);
        return new MtcnnDetector(
            store.PathOf(ModelNames.MtcnnPNet), store.PathOf(ModelNames.MtcnnRNet), store.PathOf(ModelNames.MtcnnONet), options);
    }

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
        foreach (var scale in MtcnnMath.PyramidScales(image.Width, image.Height, _options.MinFaceSize, _options.ScaleFactor))
        {
            var (ws, hs) = MtcnnMath.ScaledSize(image.Width, image.Height, scale);
            var input = new float[3 * ws * hs];
            if (_options.Resampling == MtcnnResampling.Area)
                PyramidLevel(image, ws, hs, input);
            else
                ImageResize.ResizeToChw(image, PixelRect.Of(image), ws, hs, Mean, Scale, input, Kernel);
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, hs, ws]);
            using var outputs = _pnet.Run(OnnxSessions.DefaultRun, ["input"], [inputValue], ["reg", "prob"]);
            var regShape = outputs[0].GetTensorTypeAndShape().Shape; // 1 x 4 x H' x W'
            int mh = (int)regShape[2], mw = (int)regShape[3];
            var reg = outputs[0].GetTensorDataAsSpan<float>();
            var prob = outputs[1].GetTensorDataAsSpan<float>().Slice(mh * mw, mh * mw); // channel 1 = face
            var boxes = MtcnnMath.GenerateBoundingBoxes(prob, reg, mw, mh, scale, _options.PNetThreshold);
            if (boxes.Count == 0) continue;
            foreach (var i in MtcnnMath.Nms(boxes, NmsWithinScale, NmsMode.Union)) all.Add(boxes[i]);
        }
        if (all.Count == 0) return all;

        var kept = new List<Candidate>();
        foreach (var i in MtcnnMath.Nms(all, NmsAcrossScales, NmsMode.Union))
            kept.Add(MtcnnMath.Fix(MtcnnMath.Square(MtcnnMath.PNetRegression(all[i]))));
        return kept;
    }

    private List<Candidate> RunRNet(RgbImage image, List<Candidate> boxes)
    {
        var passed = new List<Candidate>();
        ForEachBatch(image, boxes, RNetSize, ["prob", "reg"], (outputs, start, count) =>
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
        ForEachBatch(image, boxes, ONetSize, ["prob", "reg", "landmarks"], (outputs, start, count) =>
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
    private void ForEachBatch(RgbImage image, List<Candidate> boxes, int size, string[] outputNames, BatchHandler handle, InferenceSession net)
    {
        int per = 3 * size * size;
        for (int start = 0; start < boxes.Count; start += _options.MaxBatch)
        {
            int count = Math.Min(_options.MaxBatch, boxes.Count - start);
            var input = new float[count * per];
            for (int k = 0; k < count; k++)
            {
                var region = MtcnnMath.CropFor(boxes[start + k]);
                if (_options.Resampling == MtcnnResampling.Area)
                    CropInput(image, region, size, input.AsSpan(k * per, per));
                else
                    ImageResize.ResizeToChw(image, region, size, size, Mean, Scale, input.AsSpan(k * per, per), Kernel);
            }
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [count, 3, size, size]);
            using var outputs = net.Run(OnnxSessions.DefaultRun, ["input"], [inputValue], outputNames);
            handle(outputs, start, count);
        }
    }

    /// <summary>
    /// facenet's P-Net input: <c>imresample(img, (hs, ws))</c> on the uint8 image (so the level is uint8, rounded as
    /// OpenCV rounds), then <c>(level - 127.5) * 0.0078125</c>, exact in float32. Written as CHW planes.
    /// </summary>
    private static void PyramidLevel(RgbImage image, int ws, int hs, Span<float> chw)
    {
        int n = ws * hs;
        byte[] level = ArrayPool<byte>.Shared.Rent(3 * n);
        try
        {
            OpenCvResize.AreaU8(image, ws, hs, level);
            for (int i = 0; i < n; i++)
            {
                chw[i] = (level[3 * i] - Mean) * Scale;
                chw[n + i] = (level[3 * i + 1] - Mean) * Scale;
                chw[2 * n + i] = (level[3 * i + 2] - Mean) * Scale;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(level);
        }
    }

    /// <summary>
    /// facenet's R-Net/O-Net input: the crop in a float64 zero canvas, <c>imresample(tmp, (size, size))</c> in float64,
    /// <c>(x - 127.5) * 0.0078125</c> in float64, then float32 (what the TensorFlow placeholder receives).
    /// </summary>
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

    public void Dispose()
    {
        _pnet.Dispose();
        _rnet.Dispose();
        _onet.Dispose();
    }
}
