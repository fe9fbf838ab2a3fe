using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>Sees one intermediate tensor of one batch: its name, its shape (batch axis first) and its values.</summary>
internal delegate void TensorVisitor(string tensor, long[] shape, ReadOnlySpan<float> values);

/// <summary>
/// A float model with some of its intermediate tensors added as graph outputs, in one ONNX Runtime session, run over
/// calibration inputs in small batches (the calibration passes of <see cref="ActivationCalibrator"/>,
/// <see cref="ChannelEqualizer"/> and <see cref="BiasCorrector"/>). The session lives until <see cref="Dispose"/>.
/// </summary>
internal sealed class TensorProbe : IDisposable
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>Inputs per ONNX Runtime call: every probed tensor of the batch is returned at once, so keep it small.</summary>
    private const int Batch = 8;

    private readonly SessionOptions options;
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string[] tensors;

    /// <summary>
    /// A session of <paramref name="model"/> (copied; unchanged) that returns <paramref name="tensors"/>. Without
    /// <paramref name="optimize"/>, ONNX Runtime runs the graph as written (no fusion), so that every tensor of a QDQ
    /// graph stays readable.
    /// </summary>
    public TensorProbe(ModelProto model, IReadOnlyList<string> tensors, bool optimize = true)
    {
        var probe = model.Clone();
        var existing = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in tensors.Where(t => !existing.Contains(t)))
            probe.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType } } });
        inputName = probe.Graph.Input[0].Name;
        this.tensors = [.. tensors];
        options = OnnxSessions.CreateOptions(Environment.ProcessorCount);
        try
        {
            if (!optimize) options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
            session = new InferenceSession(probe.ToByteArray(), options);
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model over <paramref name="inputs"/> (each one NCHW float image of <paramref name="inputShape"/>
    /// without the batch axis) and hands every probed tensor of every batch to <paramref name="visit"/>, in order.
    /// </summary>
    public void ForEachBatch(IReadOnlyList<float[]> inputs, long[] inputShape, TensorVisitor visit)
    {
        if (inputs.Count == 0) throw new ArgumentException("no calibration inputs");
        int per = inputs[0].Length;
        for (int start = 0; start < inputs.Count; start += Batch)
        {
            int count = Math.Min(Batch, inputs.Count - start);
            var data = new float[count * per];
            for (int k = 0; k < count; k++) inputs[start + k].CopyTo(data, k * per);
            using var value = OrtValue.CreateTensorValueFromMemory(data, [count, .. inputShape]);
            using var outputs = session.Run(OnnxSessions.DefaultRun, [inputName], [value], tensors);
            for (int i = 0; i < tensors.Length; i++)
                visit(tensors[i], outputs[i].GetTensorTypeAndShape().Shape, outputs[i].GetTensorDataAsSpan<float>());
        }
    }

    public void Dispose()
    {
        session.Dispose();
        options.Dispose();
    }
}
