using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>How a tensor's range is taken from the calibration activations.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>The <see cref="ActivationCalibrator.Percentile"/> quantiles at both ends (clips rare outliers).</summary>
    Percentile,

    /// <summary>
    /// The clipping range whose uint8 quantization has the least mean squared error over the tensor's histogram
    /// (rounding noise inside the range, clipping error outside), searched over quantile cuts of both ends.
    /// </summary>
    Mse,
}

/// <summary>What the calibration saw of one tensor: its extremes and a histogram of <see cref="ActivationCalibrator.Bins"/> bins between them.</summary>
internal sealed record ActivationStats(float Min, float Max, long[] Histogram);

/// <summary>
/// Measures activation ranges of a float32 model: the tensors to measure are added as graph outputs, the model runs
/// over the calibration inputs, and each tensor's extremes (first pass) and histogram over them (second pass) are kept;
/// <see cref="Range"/> turns them into a range by one <see cref="CalibrationMethod"/>.
/// </summary>
internal static class ActivationCalibrator
{
    /// <summary>The quantile kept at each end with <see cref="CalibrationMethod.Percentile"/> (99.99 %, ONNX Runtime's default percentile).</summary>
    public const double Percentile = 0.9999;

    /// <summary>Histogram bins per tensor (2048, ONNX Runtime's histogram default).</summary>
    internal const int Bins = 2048;

    /// <summary>
    /// The range of each of <paramref name="tensors"/> over <paramref name="inputs"/> (each one NCHW float image of
    /// <paramref name="inputShape"/> without the batch axis).
    /// </summary>
    public static Dictionary<string, ActivationRange> Measure(ModelProto fp32, IReadOnlyList<string> tensors,
        IReadOnlyList<float[]> inputs, long[] inputShape, CalibrationMethod method)
    {
        var stats = Statistics(fp32, tensors, inputs, inputShape, histograms: method != CalibrationMethod.MinMax);
        return stats.ToDictionary(kv => kv.Key, kv => Range(kv.Value, method));
    }

    /// <summary>Extremes and (with <paramref name="histograms"/>) histograms of <paramref name="tensors"/> over <paramref name="inputs"/>.</summary>
    public static Dictionary<string, ActivationStats> Statistics(ModelProto fp32, IReadOnlyList<string> tensors,
        IReadOnlyList<float[]> inputs, long[] inputShape, bool histograms = true)
    {
        if (inputs.Count == 0) throw new ArgumentException("no calibration inputs");
        using var probe = new TensorProbe(OnnxQuantizer.CalibrationModel(fp32), tensors);
        var min = tensors.ToDictionary(t => t, _ => float.PositiveInfinity);
        var max = tensors.ToDictionary(t => t, _ => float.NegativeInfinity);
        probe.ForEachBatch(inputs, inputShape, (name, _, values) =>
        {
            float lo = min[name], hi = max[name];
            foreach (var v in values)
            {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            min[name] = lo;
            max[name] = hi;
        });
        if (tensors.FirstOrDefault(t => !float.IsFinite(min[t]) || !float.IsFinite(max[t])) is { } bad)
            throw new InvalidDataException($"calibration: tensor '{bad}' is not finite on the calibration inputs");
        var hist = tensors.ToDictionary(t => t, _ => new long[histograms ? Bins : 0]);
        if (histograms)
            probe.ForEachBatch(inputs, inputShape, (name, _, values) =>
            {
                var h = hist[name];
                float lo = min[name], width = (max[name] - lo) / Bins;
                if (!(width > 0)) { h[0] += values.Length; return; }
                foreach (var v in values) h[Math.Clamp((int)((v - lo) / width), 0, Bins - 1)]++;
            });
        return tensors.ToDictionary(t => t, t => new ActivationStats(min[t], max[t], hist[t]));
    }

    /// <summary>The range <paramref name="method"/> takes from <paramref name="stats"/> (<paramref name="percentile"/>: the quantile kept at each end).</summary>
    public static ActivationRange Range(ActivationStats stats, CalibrationMethod method, double percentile = Percentile)
    {
        if (method == CalibrationMethod.MinMax || stats.Histogram.Length == 0 || !(stats.Max > stats.Min))
            return new ActivationRange(stats.Min, stats.Max);
        var h = stats.Histogram;
        float lo = stats.Min, width = (stats.Max - lo) / h.Length;
        if (method == CalibrationMethod.Percentile)
        {
            var (first, last) = QuantileBins(h, 1 - percentile);
            // bin edges: the lower edge of the first kept bin, the upper edge of the last
            return new ActivationRange(lo + first * width, lo + (last + 1) * width);
        }
        return MseRange(h, lo, width);
    }

    /// <summary>The first and last bins kept when a fraction <paramref name="tail"/> of the values is cut at each end.</summary>
    private static (int First, int Last) QuantileBins(long[] h, double tail)
    {
        long total = h.Sum();
        long cut = (long)Math.Floor(total * tail);
        int first = 0, last = h.Length - 1;
        for (long seen = 0; first < h.Length - 1 && seen + h[first] <= cut; first++) seen += h[first];
        for (long seen = 0; last > first && seen + h[last] <= cut; last--) seen += h[last];
        return (first, last);
    }

    /// <summary>
    /// Tail fractions tried at each end by <see cref="CalibrationMethod.Mse"/> (0 = the extreme itself); each pair of
    /// them is one candidate range.
    /// </summary>
    private static readonly double[] MseTails = [0, 1e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2];

    /// <summary>
    /// The candidate range (quantile cuts of both ends, widened to include 0 as the uint8 scheme does) with the least
    /// expected squared error over the histogram: step²/12 for a value inside, its distance to the range squared for a
    /// value outside (values at bin centres).
    /// </summary>
    private static ActivationRange MseRange(long[] h, float lo, float width)
    {
        double best = double.PositiveInfinity;
        var bestRange = new ActivationRange(lo, lo + h.Length * width);
        foreach (var lowTail in MseTails)
            foreach (var highTail in MseTails)
            {
                int first = QuantileBins(h, lowTail).First, last = QuantileBins(h, highTail).Last;
                if (last < first) continue;
                float a = Math.Min(0, lo + first * width), b = Math.Max(0, lo + (last + 1) * width);
                double step = (b - a) / 255.0, inside = step * step / 12, error = 0;
                for (int i = 0; i < h.Length; i++)
                {
                    if (h[i] == 0) continue;
                    double x = lo + (i + 0.5) * width;
                    double d = x < a ? a - x : x > b ? x - b : 0;
                    error += h[i] * (d * d + inside);
                }
                if (error < best) { best = error; bestRange = new ActivationRange(lo + first * width, lo + (last + 1) * width); }
            }
        return bestRange;
    }
}
