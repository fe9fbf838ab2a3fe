using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Training.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>What a checkpoint records besides the weights.</summary>
/// <param name="Epoch">The last finished epoch (1-based, as facenet counts).</param>
/// <param name="GlobalStep">Optimiser steps so far.</param>
/// <param name="FoldedBatchNorm">The MobileFaceNet was the folded form (fine-tuning pretrained weights).</param>
internal sealed record CheckpointState(int Epoch, long GlobalStep, bool FoldedBatchNorm);

/// <summary>
/// A checkpoint folder <c>checkpoint-EEEE</c> in the run's models folder: <c>model.dat</c> (TorchSharp
/// <c>Module.save</c> of the embedding network), <c>head.dat</c> (classifier and centres, softmax only),
/// <c>optimizer.dat</c> (optimiser state) and <c>state.json</c>. Written into a temporary folder that is renamed
/// when complete, so a folder with that name is always whole.
/// </summary>
internal sealed class Checkpoint(string directory, CheckpointState state)
{
    public string Directory { get; } = directory;

    public CheckpointState State { get; } = state;

    public static string NameOf(int epoch) => TrainingRun.CheckpointPrefix + epoch.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>The network with the weights' moving averages (with <c>--use-moving-averages</c>), beside <c>model.dat</c>.</summary>
    public const string AveragedModelFile = "model-averaged.dat";
    public const string AveragedHeadFile = "head-averaged.dat";

    /// <summary>Writes the checkpoint of <paramref name="state"/>'s epoch: the network, head and optimiser state, plus
    /// <paramref name="extraFiles"/> (e.g. the averaged weights), moved in before the folder is renamed into place.</summary>
    public static void Save(string modelDir, CheckpointState state, nn.Module net, nn.Module? head, optim.Optimizer optimizer,
        IReadOnlyList<string>? extraFiles = null)
    {
        var final = Path.Combine(modelDir, NameOf(state.Epoch));
        var tmp = final + ".tmp-" + Environment.ProcessId;
        if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, recursive: true);
        System.IO.Directory.CreateDirectory(tmp);
        net.save(Path.Combine(tmp, "model.dat"));
        head?.save(Path.Combine(tmp, "head.dat"));
        ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(Path.Combine(tmp, "optimizer.dat"));
        foreach (var f in extraFiles ?? []) File.Move(f, Path.Combine(tmp, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state, TrainingOptions.Json));
        if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
        System.IO.Directory.Move(tmp, final);
    }

    /// <summary>The checkpoint in <paramref name="directory"/> (a <c>checkpoint-EEEE</c> folder).</summary>
    public static Checkpoint Open(string directory) =>
        new(directory, JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(directory, "state.json")), TrainingOptions.Json)
            ?? throw new InvalidDataException($"{directory}/state.json is empty"));

    /// <summary>The checkpoint <paramref name="path"/> names: a <c>checkpoint-EEEE</c> folder, or a run's models folder (its latest); null when neither.</summary>
    public static Checkpoint? Find(string path) =>
        File.Exists(Path.Combine(path, "state.json")) ? Open(path) : Latest(path);

    /// <summary>The checkpoint of the highest epoch in <paramref name="modelDir"/>, or null.</summary>
    public static Checkpoint? Latest(string modelDir) =>
        System.IO.Directory.Exists(modelDir)
            ? System.IO.Directory.GetDirectories(modelDir, TrainingRun.CheckpointPrefix + "*")
                .Where(d => !Path.GetFileName(d).Contains(".tmp-", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "state.json")))
                .Select(Open)
                .MaxBy(c => c.State.Epoch)
            : null;

    /// <summary>Loads the weights (network into <paramref name="net"/>, strict) and, where given, the head and the optimiser state.</summary>
    public void Restore(nn.Module net, nn.Module? head, optim.Optimizer? optimizer)
    {
        net.load(Path.Combine(Directory, "model.dat"));
        var headPath = Path.Combine(Directory, "head.dat");
        if (head is not null && File.Exists(headPath)) head.load(headPath);
        if (optimizer is not null) ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(Path.Combine(Directory, "optimizer.dat"));
    }

    /// <summary>Loads the averaged weights into the modules when the checkpoint has them; false otherwise.</summary>
    public bool RestoreAveraged(nn.Module net, nn.Module? head)
    {
        var path = Path.Combine(Directory, AveragedModelFile);
        if (!File.Exists(path)) return false;
        net.load(path);
        var headPath = Path.Combine(Directory, AveragedHeadFile);
        if (head is not null && File.Exists(headPath)) head.load(headPath);
        return true;
    }
}
