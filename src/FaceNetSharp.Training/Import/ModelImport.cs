using System.Security.Cryptography;
using FaceNetSharp.Models;
using FaceNetSharp.Training.Export;
using FaceNetSharp.Training.Networks;
using FaceNetSharp.Training.Runs;

namespace FaceNetSharp.Training.Import;

/// <summary><c>facenet models import FILE.pt --arch inception-resnet-v1</c>: a PyTorch state dict to an ONNX embedder with its card.</summary>
public static class ModelImport
{
    /// <summary>
    /// Loads facenet-pytorch's Inception-ResNet-v1 state dict (e.g. 20180402-114759-vggface2.pt, 512-d) by name,
    /// exports it (eval mode, batch norm folded) to <paramref name="onnxPath"/> with a card, and returns the card.
    /// The embedding size is read from <c>last_linear.weight</c>; the <c>logits.*</c> classifier is ignored.
    /// Input standardisation: facenet-pytorch's <c>fixed_image_standardization</c>, <c>(x - 127.5) / 128</c>, at 160x160.
    /// </summary>
    public static ModelCard ImportInceptionResnetV1(string ptPath, string onnxPath, IProgress<string>? log = null)
    {
        var bytes = File.ReadAllBytes(ptPath);    // read once: parsed and hashed
        var state = PyTorchStateDict.LoadInput(bytes, ptPath);
        if (!state.TryGetValue("last_linear.weight", out var last) || last.Shape.Length != 2)
            throw new InvalidDataException($"{ptPath}: no last_linear.weight: not an Inception-ResNet-v1 state dict");
        TorchRuntime.Initialize(); // only for a file worth converting: a refused one never loads libtorch
        using var net = new InceptionResnetV1(new InceptionResnetV1Options((int)last.Shape[0]));
        var ignored = PretrainedWeights.LoadStateDict(net, state, ptPath);
        if (ignored.Count > 0) log?.Report($"ignored {ignored.Count} tensor(s) the embedder does not use: {string.Join(", ", ignored.Take(5))}");
        net.eval();
        var name = Path.GetFileNameWithoutExtension(onnxPath);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        return OnnxEmbeddingExporter.Write(net, net.InputSize, onnxPath, new EmbeddingExportInfo(name,
            $"Inception-ResNet-v1 ({net.EmbeddingSize}-d) imported from the PyTorch state dict {Path.GetFileName(ptPath)}",
            Path.GetFileName(ptPath), "sha256:" + sha, "as the source weights (facenet and facenet-pytorch: MIT; check the training data's terms)",
            OnnxEmbeddingExporter.UncalibratedThreshold, "uncalibrated default: calibrate with 'facenet validate'"));
    }
}
