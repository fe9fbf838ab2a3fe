using System.Globalization;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Export;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// facenet's train_softmax.py and train_tripletloss.py on TorchSharp: run folders named by start time under the logs
/// and models base folders, arguments.txt, TensorBoard event files, a checkpoint per epoch, resume, and the final
/// ONNX embedder with its card. Call <see cref="TorchRuntime.Initialize"/> first (done here too).
/// </summary>
public static class FaceTrainer
{
    /// <summary>facenet's run folder name: <c>datetime.strftime(datetime.now(), '%Y%m%d-%H%M%S')</c>.</summary>
    public static string RunName(DateTime now) => now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);

    /// <summary>
    /// Exports one checkpoint of a run (a <c>checkpoint-EEEE</c> folder, or a run's models folder for its latest) to
    /// ONNX with a card: the averaged weights where the run kept them (<c>--use-moving-averages</c>) unless
    /// <paramref name="raw"/>, else the trained ones, with the batch-norm statistics saved at the end of that epoch.
    /// </summary>
    /// <returns>The ONNX path written (default: <c>RUN-EEEE.onnx</c> in the run's models folder).</returns>
    public static string Export(string checkpointOrRun, string? onnxPath = null, bool raw = false)
    {
        TorchRuntime.Initialize();
        var full = Path.GetFullPath(checkpointOrRun).TrimEnd(Path.DirectorySeparatorChar);
        var checkpoint = Checkpoint.Find(full)
            ?? throw new DatasetException($"{checkpointOrRun} is neither a checkpoint folder nor a run folder with one");
        var runDir = Path.GetDirectoryName(checkpoint.Directory)!;
        var o = TrainingRun.ReadOptions(runDir);
        var runName = Path.GetFileName(runDir);
        onnxPath ??= Path.Combine(runDir, $"{runName}-{checkpoint.State.Epoch:D4}.onnx");
        using var net = TrainingRun.CreateNetwork(o, checkpoint.State.FoldedBatchNorm);
        bool averaged = !raw && checkpoint.RestoreAveraged(net, null);
        if (!averaged) checkpoint.Restore(net, null, null);
        TrainingRun.WriteOnnx(net, o, runName, onnxPath,
            $", epoch {checkpoint.State.Epoch}" + (averaged ? " (moving averages of the weights)" : ""),
            OnnxEmbeddingExporter.UncalibratedThreshold, "uncalibrated default (exported from a checkpoint): calibrate with 'facenet validate'");
        return onnxPath;
    }

    /// <summary>Starts a run, or continues the run in <paramref name="resumeDirectory"/> (its models folder) after its latest checkpoint.</summary>
    /// <param name="options">The settings; ignored when resuming except <see cref="TrainingOptions.MaxNrofEpochs"/> when <paramref name="maxEpochsOverride"/> is set.</param>
    /// <param name="log">Progress lines (one per epoch and a few more).</param>
    /// <param name="resumeDirectory">A run's models folder to resume, or null.</param>
    /// <param name="maxEpochsOverride">A new epoch limit for a resumed run.</param>
    /// <param name="cancellation">Stops after the current batch (throws <see cref="OperationCanceledException"/>); the last finished epoch's checkpoint stays.</param>
    /// <param name="progress">Called on the training thread after every batch.</param>
    public static TrainingResult Run(TrainingOptions? options, IProgress<string>? log = null, string? resumeDirectory = null,
        int? maxEpochsOverride = null, CancellationToken cancellation = default, IProgress<TrainingProgress>? progress = null)
    {
        TorchRuntime.Initialize();
        using var run = resumeDirectory is null
            ? TrainingRun.Start(options ?? throw new ArgumentNullException(nameof(options)), log)
            : TrainingRun.Resume(resumeDirectory, maxEpochsOverride, log);
        return run.Train(cancellation, progress);
    }
}
