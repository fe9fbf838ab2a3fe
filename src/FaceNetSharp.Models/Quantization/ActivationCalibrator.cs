using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>How a tensor's range is taken from the calibration activations.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>The <see cref="ActivationCalibrator.Percentile"/> quantiles at both ends (clips rare outliers).</summary>
    Percentile,
}

/// <summary>
/// Measures activation ranges of a float32 model: the tensors to measure are added as graph outputs, the model runs
/// over the calibration inputs, and each tensor's range is kept (min/max in a first pass; with
/// <see cref="CalibrationMethod.Percentile"/>, a histogram over that range in a second pass).
/// </summary>
internal static class ActivationCalibrator
{
    /// <summary>The quantile kept at each end with <see cref="CalibrationMethod.Percentile"/> (99.99 %, ONNX Runtime's default percentile).</summary>
    public const double Percentile = 0.9999;

    /// <summary>Histogram bins per tensor for <see cref="CalibrationMethod.Percentile"/> (2048, ONNX Runtime's histogram default).</summary>
    private const int Bins = 2048;

    /// <summary>Inputs per ONNX Runtime call: every measured tensor of the batch is returned at once, so keep it small.</summary>
    private const int Batch = 8;

    /// <summary>
    /// The range of each of <paramref name="tensors"/> over <paramref name="inputs"/> (each one NCHW float image of
    /// <paramref name="inputShape"/> without the batch axis).
    /// </summary>
    public static Dictionary<string, ActivationRange> Measure(ModelProto fp32, IReadOnlyList<string> tensors,
        IReadOnlyList<float[]> inputs, long[] inputShape, CalibrationMethod method)
    {
        if (inputs.Count == 0) throw new ArgumentException("no calibration inputs");
        var probe = OnnxQuantizer.CalibrationModel(fp32);
        var existing = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in tensors)
            if (!existing.Contains(name))
                probe.Graph.Output.Add(new ValueInfoProto
                {
                    Name = name,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
                });
        string inputName = probe.Graph.Input[0].Name;
        using var options = OnnxSessions.CreateOptions(Environment.ProcessorCount);
        using var session = new InferenceSession(probe.ToByteArray(), options);

        var min = tensors.ToDictionary(t => t, _ => float.PositiveInfinity);
        var max = tensors.ToDictionary(t => t, _ => float.NegativeInfinity);
        ForEachBatch(session, inputName, tensors, inputs, inputShape, (name, values) =>
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
        if (method == CalibrationMethod.MinMax)
            return tensors.ToDictionary(t => t, t => new ActivationRange(min[t], max[t]));

        var histograms = tensors.ToDictionary(t => t, _ => new long[Bins]);
        ForEachBatch(session, inputName, tensors, inputs, inputShape, (name, values) =>
        {
            var h = histograms[name];
            float lo = min[name], width = (max[name] - lo) / Bins;
            if (!(width > 0)) { h[0] += values.Length; return; }
            foreach (var v in values) h[Math.Clamp((int)((v - lo) / width), 0, Bins - 1)]++;
        });
        return tensors.ToDictionary(t => t, t =>
        {
            var h = histograms[t];
            long total = h.Sum();
            float lo = min[t], width = (max[t] - lo) / Bins;
            long cut = (long)Math.Floor(total * (1 - Percentile));
            int first = 0, last = Bins - 1;
            for (long seen = 0; first < Bins - 1 && seen + h[first] <= cut; first++) seen += h[first];
            for (long seen = 0; last > 0 && seen + h[last] <= cut; last--) seen += h[last];
            // bin edges: the lower edge of the first kept bin, the upper edge of the last
            return new ActivationRange(lo + first * width, lo + (last + 1) * width);
        });
    }

    private static void ForEachBatch(InferenceSession session, string inputName, IReadOnlyList<string> tensors,
        IReadOnlyList<float[]> inputs, long[] inputShape, Action<string, ReadOnlySpan<float>> visit)
    {
        int per = inputs[0].Length;
        for (int start = 0; start < inputs.Count; start += Batch)
        {
            int count = Math.Min(Batch, inputs.Count - start);
            var data = new float[count * per];
            for (int k = 0; k < count; k++) inputs[start + k].CopyTo(data, k * per);
            using var value = OrtValue.CreateTensorValueFromMemory(data, [count, .. inputShape]);
            using var outputs = session.Run(OnnxSessions.DefaultRun, [inputName], [value], [.. tensors]);
            for (int i = 0; i < tensors.Count; i++) visit(tensors[i], outputs[i].GetTensorDataAsSpan<float>());
        }
    }
}
