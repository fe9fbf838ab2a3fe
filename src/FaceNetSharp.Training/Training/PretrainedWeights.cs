using FaceNetSharp.Training.Import;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Training;

/// <summary>
/// facenet <c>--pretrained_model</c>: weights to start from. Accepts a checkpoint folder of this trainer (or a run
/// folder: its latest checkpoint), a TorchSharp <c>model.dat</c>, or a PyTorch state dict (<c>.pt</c>/<c>.pth</c>,
/// e.g. facenet-pytorch's 20180402-114759-vggface2.pt for Inception-ResNet-v1), loaded by parameter name.
/// </summary>
public static class PretrainedWeights
{
    public static void Load(EmbeddingNetwork net, string path)
    {
        if (Directory.Exists(path))
        {
            var cp = Checkpoint.Find(path) ?? throw new FileNotFoundException($"{path}: no checkpoint in this folder");
            cp.Restore(net, null, null);
            return;
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"pretrained model {path} does not exist");
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".pt" or ".pth")
        {
            LoadStateDict(net, PyTorchStateDict.Load(path), path);
            return;
        }
        if (ext == ".onnx")
        {
            if (net is not MobileFaceNet m) throw new ArgumentException($"{path}: ONNX weights load into MobileFaceNet only");
            MobileFaceNetOnnxWeights.Load(m, path);
            return;
        }
        net.load(path);
    }

    /// <summary>
    /// Copies a PyTorch state dict into <paramref name="net"/> by name. Keys the network lacks (facenet-pytorch's
    /// <c>logits.*</c> classifier) are ignored and returned; a key the network has but the file lacks, or a shape
    /// mismatch, is an error naming it.
    /// </summary>
    public static IReadOnlyList<string> LoadStateDict(nn.Module net, IReadOnlyDictionary<string, StateTensor> state, string source)
    {
        using var scope = NewDisposeScope();
        var own = net.state_dict();
        foreach (var (name, target) in own)
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !state.ContainsKey(name)) continue;
            if (!state.TryGetValue(name, out var t)) throw new InvalidDataException($"{source}: no tensor '{name}'");
            if (!t.Shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: '{name}' has shape [{string.Join(",", t.Shape)}], the network needs [{string.Join(",", target.shape)}]");
            using var _ = no_grad();
            target.copy_(tensor(t.Data, t.Shape).to_type(target.dtype));
        }
        return [.. state.Keys.Where(k => !own.ContainsKey(k))];
    }
}
