using FaceNetSharp.Models;
using FaceNetSharp.Training.Import;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// facenet <c>--pretrained_model</c>: weights to start from. Accepts a checkpoint folder of this trainer (or a run
/// folder: its latest checkpoint), a TorchSharp <c>model.dat</c>, or a PyTorch state dict (<c>.pt</c>/<c>.pth</c>,
/// e.g. facenet-pytorch's 20180402-114759-vggface2.pt for Inception-ResNet-v1), loaded by parameter name.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>
    /// The file or folder <paramref name="pretrained"/> names: a path as given, or the name of the installed
    /// MobileFaceNet (<c>mobilefacenet</c>, when no file or folder of that name is here), which is installed first when
    /// missing and checked against its card. An ONNX file with a card beside it is checked against the card.
    /// </summary>
    public static string Resolve(string pretrained, ModelStore store, IProgress<string>? log = null)
    {
        var path = pretrained;
        if (!File.Exists(pretrained) && !Directory.Exists(pretrained) && string.Equals(pretrained, ModelNames.MobileFaceNet, StringComparison.OrdinalIgnoreCase))
        {
            store.EnsureInstalled([ModelNames.MobileFaceNet], log);
            path = store.PathOf(ModelNames.MobileFaceNet);
        }
        if (File.Exists(path) && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) ModelIntegrity.Verify(path);
        return path;
    }

    /// <summary>
    /// The network a pretrained file holds, as far as the file says without building one: an ONNX MobileFaceNet gives
    /// the architecture, input size, embedding size (its output width) and fixed standardisation (its card's
    /// <c>(x - 127.5) / 128</c>); a PyTorch state dict with <c>last_linear.weight</c> gives Inception-ResNet-v1 and its
    /// embedding size. Null members are unknown (checkpoint folders keep their own settings).
    /// </summary>
    public static PretrainedShape Describe(string path)
    {
        if (!File.Exists(path)) return new PretrainedShape(null, null, null, null);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".onnx")
        {
            Onnx.ModelProto model;
            try
            {
                using var stream = File.OpenRead(path);
                model = Onnx.ModelProto.Parser.ParseFrom(stream);
            }
            catch (Google.Protobuf.InvalidProtocolBufferException e)
            {
                throw new InvalidDataException($"{path} is not an ONNX model: {e.Message}", e);
            }
            static long? Dim(Onnx.ValueInfoProto? v, int axis) =>
                v?.Type?.TensorType?.Shape?.Dim is { } dims && dims.Count > axis && dims[axis].DimValue > 0 ? dims[axis].DimValue : null;
            var input = model.Graph.Input.FirstOrDefault();
            var output = model.Graph.Output.FirstOrDefault();
            return new PretrainedShape(ModelDefinition.MobileFaceNet, (int?)Dim(input, 2), (int?)Dim(output, 1), true);
        }
        if (ext is ".pt" or ".pth")
        {
            var state = PyTorchStateDict.LoadInput(File.ReadAllBytes(path), path);
            return state.TryGetValue("last_linear.weight", out var last) && last.Shape.Length == 2
                ? new PretrainedShape(ModelDefinition.InceptionResnetV1, null, (int)last.Shape[0], null)
                : new PretrainedShape(null, null, null, null);
        }
        return new PretrainedShape(null, null, null, null);
    }

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
            LoadStateDict(net, PyTorchStateDict.LoadInput(File.ReadAllBytes(path), path), path);
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

/// <summary>
/// What a pretrained file says about the network it fits (<see cref="PretrainedWeights.Describe"/>); null where it
/// does not say.
/// </summary>
/// <param name="ModelDef">The architecture.</param>
/// <param name="ImageSize">The input side in pixels.</param>
/// <param name="EmbeddingSize">The embedding width.</param>
/// <param name="FixedStandardization">True when the network was trained on <c>(x - 127.5) / 128</c> input.</param>
public sealed record PretrainedShape(ModelDefinition? ModelDef, int? ImageSize, int? EmbeddingSize, bool? FixedStandardization);
