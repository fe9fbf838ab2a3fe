using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using FaceNetSharp.Evaluation;
using ClassifierData = FaceNetSharp.Recognition.ClassifierData;
using VectorMath = FaceNetSharp.Recognition.VectorMath;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Export;
using FaceNetSharp.Training.Logging;
using FaceNetSharp.Training.Losses;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>What one epoch did.</summary>
public sealed record EpochResult(int Epoch, long GlobalStep, double Loss, double Accuracy, double LearningRate, double ImagesPerSecond,
    double Seconds, double? ValidationLoss, double? ValidationAccuracy, double? LfwAccuracy, double? LfwThreshold);

/// <summary>Where an epoch is, reported after every batch (batch 0: the epoch starts).</summary>
/// <param name="ModelDirectory">The run's models folder (what <c>--resume</c> takes).</param>
/// <param name="Epoch">The epoch running (1-based).</param>
/// <param name="MaxEpochs">The run's last epoch.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches in an epoch.</param>
/// <param name="Loss">Mean loss of the epoch's batches so far.</param>
/// <param name="Accuracy">Mean training accuracy so far (softmax: of the classifier; triplet: positive closer than negative).</param>
/// <param name="ImagesPerSecond">Training images per second in this epoch so far.</param>
public sealed record TrainingProgress(string ModelDirectory, int Epoch, int MaxEpochs, int Batch, int Batches, double Loss, double Accuracy,
    double ImagesPerSecond);

/// <summary>What a run produced.</summary>
public sealed record TrainingResult(string RunName, string ModelDirectory, string LogDirectory, string OnnxPath,
    IReadOnlyList<EpochResult> Epochs, int UnreadableImages, long PeakWorkingSetBytes);

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

/// <summary>One training run: the networks, the optimiser, the folders and the loop.</summary>
internal sealed class TrainingRun : IDisposable
{
    // facenet.py: prelogits_norm = tf.reduce_mean(tf.norm(tf.abs(prelogits)+eps, ord=p, axis=1)), eps = 1e-4.
    private const double PrelogitsNormEps = 1e-4;
    internal const string OptionsFile = "training.json";
    internal const string CheckpointPrefix = "checkpoint-";

    private readonly TrainingOptions o;
    private readonly IProgress<string>? log;
    private readonly string runName, modelDir, logDir;
    private readonly IReadOnlyList<ImageClass> trainSet, valSet;
    private readonly EmbeddingNetwork net;
    private readonly ClassifierHead? head;
    private readonly optim.Optimizer optimizer;
    private readonly Parameter[] decayed;
    private readonly TensorBoardWriter board;
    private readonly ImageStream stream;
    private readonly LearningRateSchedule? schedule;
    private readonly LfwResolvedPairs? lfw;
    private readonly MovingAverages? averages;
    private readonly Device device;
    private int startEpoch = 1;
    private long globalStep;

    private TrainingRun(TrainingOptions options, string runName, IProgress<string>? log, bool foldedMobileFaceNet)
    {
        o = options;
        this.log = log;
        this.runName = runName;
        modelDir = Path.Combine(TrainingOptions.ExpandHome(o.ModelsBaseDir), runName);
        logDir = Path.Combine(TrainingOptions.ExpandHome(o.LogsBaseDir), runName);
        Validate(o);
        if (o.Threads > 0) set_num_threads(o.Threads);
        manual_seed(o.Seed);
        var random = new Random(o.Seed);

        var dataset = FaceDataset.Load(o.DataDir);
        if (o.ValidationSetSplitRatio > 0)
            (trainSet, valSet) = FaceDataset.Split(dataset, o.ValidationSetSplitRatio, o.MinNrofValImagesPerClass, random);
        else
            (trainSet, valSet) = (dataset, []);
        if (o.Mode == TrainingMode.Triplet)
            FaceDataset.RequireUsable(trainSet, o.DataDir, minClasses: 2, minImages: 2);
        else
            FaceDataset.RequireUsable(trainSet, o.DataDir, minClasses: 2, minImages: 1);
        if (o.LearningRate < 0)
            schedule = LearningRateSchedule.Load(o.LearningRateScheduleFile
                ?? throw new ArgumentException("--learning-rate is negative: give --learning-rate-schedule-file"));
        if (!string.IsNullOrEmpty(o.LfwDir))
        {
            var pairs = LfwPairs.Load(o.LfwPairs ?? throw new ArgumentException("--lfw-dir needs --lfw-pairs"));
            lfw = pairs.Resolve(o.LfwDir);
            if (lfw.Pairs.Count < 2) throw new DatasetException($"{o.LfwPairs}: only {lfw.Pairs.Count} pair(s) found under {o.LfwDir}");
            if (lfw.SkippedPairs.Count > 0)
                log?.Report($"LFW: {lfw.SkippedPairs.Count} pair(s) skipped, {lfw.MissingImages.Count} image(s) missing under {o.LfwDir}");
        }

        device = TrainingDevice.Resolve(o.Device);
        net = CreateNetwork(o, foldedMobileFaceNet);
        if (o.Mode == TrainingMode.Softmax)
            head = new ClassifierHead(trainSet.Count, o.EmbeddingSize, o.Loss, o.ArcFaceScale, o.ArcFaceMargin, o.CenterLossAlfa);
        // before the optimiser takes the parameters: Module.to replaces them
        if (device.type != DeviceType.CPU)
        {
            net.to(device);
            head?.to(device);
        }
        var parameters = net.parameters().Concat(head?.parameters() ?? []).ToArray();
        // slim's l2_regularizer sits on conv and fully connected weights: the parameters of rank 2 and more.
        decayed = parameters.Where(p => p.dim() >= 2).ToArray();
        optimizer = CreateOptimizer(o, parameters);
        if (o.UseMovingAverages) averages = new MovingAverages(parameters, o.MovingAverageDecay);
        stream = new ImageStream(trainSet, o.ImageSize, o.Standardization, new Augmentation(o.RandomCrop, o.RandomFlip, o.RandomRotate));
        Directory.CreateDirectory(modelDir);
        board = new TensorBoardWriter(logDir);
    }

    internal static EmbeddingNetwork CreateNetwork(TrainingOptions o, bool foldedMobileFaceNet) => o.ModelDef switch
    {
        ModelDefinition.MobileFaceNet => new MobileFaceNet(new MobileFaceNetOptions(o.EmbeddingSize, foldedMobileFaceNet)),
        _ => new InceptionResnetV1(new InceptionResnetV1Options(o.EmbeddingSize, o.KeepProbability)),
    };

    /// <summary>Reads a run's settings from its models folder.</summary>
    internal static TrainingOptions ReadOptions(string modelDirectory)
    {
        var optionsPath = Path.Combine(modelDirectory, OptionsFile);
        if (!File.Exists(optionsPath)) throw new DatasetException($"{modelDirectory} is not a run folder of 'facenet train' (no {OptionsFile})");
        return JsonSerializer.Deserialize<TrainingOptions>(File.ReadAllText(optionsPath), TrainingOptions.Json)
            ?? throw new InvalidDataException($"{optionsPath} is empty");
    }

    public static TrainingRun Start(TrainingOptions options, IProgress<string>? log)
    {
        var name = RunNameFree(options);
        bool folded = options.PretrainedModel?.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) == true;
        var run = new TrainingRun(options, name, log, folded);
        try
        {
            File.WriteAllText(Path.Combine(run.logDir, "arguments.txt"), options.ToArgumentsText());
            File.WriteAllText(Path.Combine(run.modelDir, "arguments.txt"), options.ToArgumentsText());
            File.WriteAllText(Path.Combine(run.modelDir, OptionsFile), JsonSerializer.Serialize(options with { }, TrainingOptions.Json));
            if (options.PretrainedModel is { } pre)
            {
                PretrainedWeights.Load(run.net, pre);
                log?.Report($"Restored pretrained weights from {pre}");
            }
            if (run.head is not null && (options.ClassifierInit == ClassifierInit.Imprint
                || (options.ClassifierInit == ClassifierInit.Auto && options.PretrainedModel is not null)))
                run.ImprintClassifier();
            run.averages?.CaptureCurrent();
            log?.Report($"Run {name}: {run.trainSet.Count} classes, {run.stream.Count} training images, {run.valSet.Sum(c => c.ImagePaths.Count)} validation images; " +
                $"models in {run.modelDir}, logs in {run.logDir}");
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    public static TrainingRun Resume(string modelDirectory, int? maxEpochs, IProgress<string>? log)
    {
        var options = ReadOptions(modelDirectory);
        if (maxEpochs is { } m) options = options with { MaxNrofEpochs = m };
        var latest = Checkpoint.Latest(modelDirectory)
            ?? throw new DatasetException($"{modelDirectory} holds no finished checkpoint to resume from");
        var folder = Path.GetFileName(Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar));
        // the run keeps its folders: models base = the parent of the given folder
        options = options with { ModelsBaseDir = Path.GetDirectoryName(Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar))! };
        var run = new TrainingRun(options, folder, log, latest.State.FoldedBatchNorm);
        try
        {
            // the shadows start from the checkpoint's averages, or from its weights where it kept none
            bool averaged = run.averages is not null && latest.RestoreAveraged(run.net, run.head);
            if (averaged) run.averages!.CaptureCurrent();
            latest.Restore(run.net, run.head, run.optimizer);
            if (!averaged) run.averages?.CaptureCurrent();
            run.startEpoch = latest.State.Epoch + 1;
            run.globalStep = latest.State.GlobalStep;
            log?.Report($"Resuming {folder} after epoch {latest.State.Epoch} (step {latest.State.GlobalStep})");
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

    private static string RunNameFree(TrainingOptions o)
    {
        var now = DateTime.Now;
        for (int i = 0; ; i++)
        {
            var name = FaceTrainer.RunName(now.AddSeconds(i));
            if (!Directory.Exists(Path.Combine(TrainingOptions.ExpandHome(o.ModelsBaseDir), name))
                && !Directory.Exists(Path.Combine(TrainingOptions.ExpandHome(o.LogsBaseDir), name)))
                return name;
        }
    }

    private static void Validate(TrainingOptions o)
    {
        if (o.ImageSize < 32) throw new ArgumentException($"--image-size {o.ImageSize} is too small");
        if (o.ModelDef == ModelDefinition.MobileFaceNet && o.ImageSize != 112)
            throw new ArgumentException($"MobileFaceNet needs --image-size 112 (its 7x7 global depthwise conv), not {o.ImageSize}");
        if (o.BatchSize < 1 || o.EpochSize < 1 || o.MaxNrofEpochs < 1 || o.EmbeddingSize < 1)
            throw new ArgumentException("--batch-size, --epoch-size, --max-nrof-epochs and --embedding-size must be positive");
        if (o.Mode == TrainingMode.Triplet && (o.BatchSize % 3 != 0 || o.ImagesPerPerson < 2 || o.PeoplePerBatch < 2))
            throw new ArgumentException("triplet training needs --batch-size a multiple of 3, --images-per-person >= 2 and --people-per-batch >= 2");
        if (o.ValidationSetSplitRatio is < 0 or >= 1) throw new ArgumentException("--validation-set-split-ratio must be in [0, 1)");
        if (o.LfwDistanceMetric is not (0 or 1)) throw new ArgumentException("--lfw-distance-metric is 0 (Euclidean) or 1 (cosine)");
    }

    /// <summary>
    /// facenet.train's optimisers: ADAGRAD (TF initial accumulator 0.1), ADADELTA (rho 0.9, epsilon 1e-6),
    /// ADAM (beta1 0.9, beta2 0.999, epsilon 0.1), RMSPROP (decay 0.9, momentum 0.9, epsilon 1.0; TF adds epsilon inside
    /// the square root, PyTorch outside), MOM (momentum 0.9, Nesterov).
    /// </summary>
    private static optim.Optimizer CreateOptimizer(TrainingOptions o, Parameter[] p)
    {
        double lr = Math.Abs(o.LearningRate);
        return o.Optimizer switch
        {
            OptimizerKind.Adagrad => optim.Adagrad(p, lr, initial_accumulator_value: 0.1),
            OptimizerKind.Adadelta => optim.Adadelta(p, lr, rho: 0.9, eps: 1e-6),
            OptimizerKind.Adam => optim.Adam(p, lr, beta1: 0.9, beta2: 0.999, eps: 0.1),
            OptimizerKind.RmsProp => optim.RMSProp(p, lr, alpha: 0.9, eps: 1.0, momentum: 0.9),
            _ => optim.SGD(p, lr, momentum: 0.9, nesterov: true),
        };
    }

    /// <summary>facenet: rate from the flag or the schedule, then <c>exponential_decay(staircase=True)</c> on the global step.</summary>
    private double? LearningRateAt(int epoch)
    {
        double baseRate = o.LearningRate;
        if (schedule is not null && !schedule.TryGetRate(epoch, out baseRate)) return null;
        long decaySteps = (long)o.LearningRateDecayEpochs * o.EpochSize;
        return baseRate * Math.Pow(o.LearningRateDecayFactor, decaySteps > 0 ? globalStep / decaySteps : 0);
    }

    public TrainingResult Train(CancellationToken cancellation, IProgress<TrainingProgress>? progress = null)
    {
        var epochs = new List<EpochResult>();
        double? threshold = null;
        string thresholdSource = "";
        for (int epoch = startEpoch; epoch <= o.MaxNrofEpochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            stream.Restart(TrainingSeed.Of(o.Seed, epoch));
            var (result, stop) = RunEpoch(epoch, cancellation, progress);
            if (stop) { log?.Report($"The learning-rate schedule stops training at epoch {epoch}"); break; }
            var r = result!;
            RecalibrateBatchNorm(epoch == startEpoch);
            var extra = new List<string>();
            using (averages is null ? null : AveragedView())
            {
                if (valSet.Count > 0 && head is not null && (epoch % o.ValidateEveryNEpochs == 0 || epoch == o.MaxNrofEpochs))
                {
                    var (vl, va) = EvaluateValidation();
                    r = r with { ValidationLoss = vl, ValidationAccuracy = va };
                    board.Scalars(globalStep, ("val/loss", (float)vl), ("val/accuracy", (float)va));
                }
                if (lfw is not null)
                {
                    var (acc, val, thr) = EvaluateLfw();
                    r = r with { LfwAccuracy = acc, LfwThreshold = thr };
                    threshold = thr;
                    thresholdSource = $"facenet train: best cosine-distance threshold of the {o.LfwNrofFolds}-fold verification on {o.LfwPairs} after epoch {epoch}"
                        + (averages is null ? "" : " (moving averages of the weights)");
                    board.Scalars(globalStep, ("lfw/accuracy", (float)acc), ("lfw/val_rate", (float)val));
                }
                if (averages is not null)
                {
                    // the averaged network with its own batch-norm statistics, moved into the checkpoint below
                    var staging = Directory.CreateDirectory(Path.Combine(modelDir, $".averaged-{Environment.ProcessId}")).FullName;
                    extra.Add(Path.Combine(staging, Checkpoint.AveragedModelFile));
                    net.save(extra[^1]);
                    if (head is not null)
                    {
                        extra.Add(Path.Combine(staging, Checkpoint.AveragedHeadFile));
                        head.save(extra[^1]);
                    }
                }
            }
            board.Scalars(globalStep, ("time/epoch", (float)r.Seconds), ("epoch/loss", (float)r.Loss), ("epoch/accuracy", (float)r.Accuracy),
                ("epoch/images_per_second", (float)r.ImagesPerSecond));
            Checkpoint.Save(modelDir, new CheckpointState(epoch, globalStep, net is MobileFaceNet { Options.FoldedBatchNorm: true }), net, head, optimizer, extra);
            if (extra.Count > 0) Directory.Delete(Path.GetDirectoryName(extra[0])!, recursive: true);
            epochs.Add(r);
            log?.Report(Describe(r) + (stream.UnreadableCount > 0 ? $", {stream.UnreadableCount} unreadable image(s) skipped" : ""));
        }
        if (threshold is null)
            thresholdSource = "uncalibrated default (training ran without --lfw-dir): calibrate with 'facenet validate'";
        var onnx = Path.Combine(modelDir, runName + ".onnx");
        if (averages is not null && Checkpoint.Latest(modelDir) is { } last)
            last.RestoreAveraged(net, null);   // the averaged network of the last epoch, with the statistics estimated for it then
        if (device.type != DeviceType.CPU) net.to(CPU);                   // the exporter reads the weights on the CPU
        WriteOnnx(net, o, runName, onnx, $" ({trainSet.Count} classes)", threshold ?? OnnxEmbeddingExporter.UncalibratedThreshold, thresholdSource);
        log?.Report($"Exported {onnx}");
        foreach (var f in stream.Failures.Take(20)) log?.Report("skipped: " + f);
        return new TrainingResult(runName, modelDir, logDir, onnx, epochs, stream.UnreadableCount, PeakWorkingSet());
    }

    /// <summary>The process's peak resident memory so far, as the operating system counts it (Linux: VmHWM).</summary>
    private static long PeakWorkingSet()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    /// <summary>Writes the eval-mode network as ONNX with its card, named after the file; <paramref name="detail"/> ends the card's description.</summary>
    internal static void WriteOnnx(EmbeddingNetwork net, TrainingOptions o, string runName, string path, string detail, double threshold, string thresholdSource)
    {
        net.eval();
        OnnxEmbeddingExporter.Write(net, o.ImageSize, path, new EmbeddingExportInfo(Path.GetFileNameWithoutExtension(path),
            $"{o.ModelDef} trained by 'facenet train {o.Mode.ToString().ToLowerInvariant()}' on {o.DataDir}{detail}",
            "facenet train", runName, "as the training data", threshold, thresholdSource, o.Standardization));
    }

    /// <summary>Puts the moving averages into the weights, with batch-norm statistics re-estimated for them, until disposed.</summary>
    private IDisposable AveragedView()
    {
        var handle = averages!.Apply(head is null ? [net] : [net, head]);
        RecalibrateBatchNorm(false);
        return handle;
    }

    /// <summary>[n, 3, S, S] images on the training device.</summary>
    private Tensor Input(float[] pixels, int n)
    {
        var x = tensor(pixels, [n, 3, o.ImageSize, o.ImageSize]);
        if (device.type == DeviceType.CPU) return x;
        using (x) return x.to(device);
    }

    /// <summary>Re-estimates the batch-norm statistics over training batches (see <see cref="BatchNormStatistics"/>).</summary>
    private void RecalibrateBatchNorm(bool report)
    {
        if (o.BatchNormRecalibrationBatches <= 0) return;
        int count = Math.Min(o.BatchNormRecalibrationBatches, (stream.Count + o.BatchSize - 1) / o.BatchSize);
        var watch = Stopwatch.StartNew();
        // no batch-norm layers (the folded MobileFaceNet): 0, and the lazy batches are never loaded
        if (BatchNormStatistics.Reestimate(net, TrainingBatches(count)) > 0 && report)
            log?.Report(string.Create(CultureInfo.InvariantCulture,
                $"Batch-norm statistics re-estimated over {count} training batches after each epoch ({watch.Elapsed.TotalSeconds:F1} s)"));
    }

    private IEnumerable<Tensor> TrainingBatches(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[o.BatchSize * 3 * o.ImageSize * o.ImageSize];
            stream.Next(o.BatchSize, pixels);
            yield return Input(pixels, o.BatchSize);
        }
    }

    internal static string Describe(EpochResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = string.Create(c, $"Epoch {r.Epoch}: loss {r.Loss:F4}, accuracy {r.Accuracy:F3}, lr {r.LearningRate:G4}, {r.ImagesPerSecond:F1} images/s, {r.Seconds:F1} s");
        if (r.ValidationAccuracy is { } va) s += string.Create(c, $", validation loss {r.ValidationLoss:F4} accuracy {va:F3}");
        // the k-fold accuracy of facenet's validate_on_lfw.py: the share of the pairs file's same/different pairs judged
        // right, each fold at the cosine-distance threshold that is best on the other folds (their mean shown)
        if (r.LfwAccuracy is { } la)
            s += string.Create(c, $", pairs verification: accuracy {la:F3} (share of same/different pairs judged right, cross-validated) at cosine distance < {r.LfwThreshold:F3}");
        return s;
    }

    private (EpochResult? Result, bool Stop) RunEpoch(int epoch, CancellationToken cancellation, IProgress<TrainingProgress>? progress)
    {
        if (LearningRateAt(epoch) is not { } lr0) return (null, true);
        net.train();
        head?.train();
        var watch = Stopwatch.StartNew();
        double lossSum = 0, accSum = 0, lr = lr0;
        int batches = 0;
        long images = 0;
        progress?.Report(new TrainingProgress(modelDir, epoch, o.MaxNrofEpochs, 0, o.EpochSize, double.NaN, double.NaN, 0));
        while (batches < o.EpochSize)
        {
            cancellation.ThrowIfCancellationRequested();
            lr = LearningRateAt(epoch) ?? lr;
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            if (o.Mode == TrainingMode.Softmax)
            {
                var (loss, acc, n) = SoftmaxStep();
                lossSum += loss; accSum += acc; images += n; batches++;
            }
            else
            {
                foreach (var (loss, acc, n) in TripletSteps(o.EpochSize - batches))
                {
                    lossSum += loss; accSum += acc; images += n; batches++;
                }
            }
            progress?.Report(new TrainingProgress(modelDir, epoch, o.MaxNrofEpochs, batches, o.EpochSize, lossSum / batches, accSum / batches,
                images / watch.Elapsed.TotalSeconds));
        }
        double seconds = watch.Elapsed.TotalSeconds;
        return (new EpochResult(epoch, globalStep, lossSum / batches, accSum / batches, lr, images / seconds, seconds, null, null, null, null), false);
    }

    /// <summary>One softmax batch: facenet's total loss = cross entropy + regularisation + center loss + prelogits norm loss.</summary>
    private (double Loss, double Accuracy, int Images) SoftmaxStep()
    {
        using var scope = NewDisposeScope();
        var pixels = new float[o.BatchSize * 3 * o.ImageSize * o.ImageSize];
        var labels = stream.Next(o.BatchSize, pixels);
        var x = Input(pixels, o.BatchSize);
        var y = tensor(labels, device: device);
        var prelogits = net.forward(x);                                   // N x E
        var (logits, scores) = head!.Forward(prelogits, y);              // N x C
        var xent = nn.functional.cross_entropy(logits, y);
        var regularization = Regularization();
        var total = xent + regularization;
        var extra = new List<(string, float)>();
        if (o.WeightDecay > 0) extra.Add(("regularization", regularization.item<float>()));
        if (o.CenterLossFactor > 0)
        {
            var center = head.CenterLoss(prelogits, y);
            total = total + center * o.CenterLossFactor;
            extra.Add(("center_loss", center.item<float>()));
        }
        if (o.PrelogitsNormLossFactor > 0)
        {
            var norm = linalg.vector_norm(prelogits.abs() + PrelogitsNormEps, o.PrelogitsNormP, [1]).mean();
            total = total + norm * o.PrelogitsNormLossFactor;
            extra.Add(("prelogits_norm", norm.item<float>()));
        }
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        globalStep++;
        averages?.Update(globalStep);
        double acc;
        using (no_grad()) acc = scores.argmax(1).eq(y).to_type(ScalarType.Float32).mean().item<float>();
        float lossValue = total.item<float>();
        board.Scalars(globalStep, [("loss", lossValue), ("cross_entropy", xent.item<float>()), ("accuracy", (float)acc),
            ("learning_rate", (float)optimizer.ParamGroups.First().LearningRate), .. extra]);
        return (lossValue, acc, o.BatchSize);
    }

    /// <summary>slim l2_regularizer: weight_decay * sum(w^2) / 2 over conv and fully connected weights.</summary>
    private Tensor Regularization()
    {
        if (o.WeightDecay <= 0) return tensor(0f, device: device);
        using var scope = NewDisposeScope();
        Tensor sum = tensor(0f, device: device);
        foreach (var p in decayed) sum = sum + p.square().sum();
        return (sum * (o.WeightDecay / 2)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// train_tripletloss.py: sample people (people_per_batch x up to images_per_person), embed them (training mode,
    /// no gradient, as facenet runs its graph with phase_train True), select triplets, then train on them in batches
    /// of batch_size (a multiple of 3). Yields (loss, fraction of triplets with positive closer than negative, images)
    /// for each training batch, at most <paramref name="maxBatches"/>.
    /// </summary>
    private IEnumerable<(double, double, int)> TripletSteps(int maxBatches)
    {
        var (paths, perClass) = SamplePeople();
        int per = 3 * o.ImageSize * o.ImageSize;
        var pixels = new float[paths.Count * per];
        var ok = new bool[paths.Count];
        for (int i = 0; i < paths.Count; i++) ok[i] = stream.TryLoad(paths[i], pixels.AsSpan(i * per, per));
        // unreadable images: drop their rows and shrink their person's count
        var keep = Enumerable.Range(0, paths.Count).Where(i => ok[i]).ToArray();
        var counts = new List<int>();
        int start = 0;
        foreach (var c in perClass) { counts.Add(Enumerable.Range(start, c).Count(i => ok[i])); start += c; }
        var embeddings = new float[keep.Length * o.EmbeddingSize];
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            for (int b = 0; b < keep.Length; b += o.BatchSize)
            {
                var idx = keep.Skip(b).Take(o.BatchSize).ToArray();
                var batch = new float[idx.Length * per];
                for (int j = 0; j < idx.Length; j++) pixels.AsSpan(idx[j] * per, per).CopyTo(batch.AsSpan(j * per));
                using var inner = NewDisposeScope();
                var e = EmbeddingNetwork.L2Normalize(net.forward(Input(batch, idx.Length))).cpu();
                e.data<float>().ToArray().CopyTo(embeddings.AsSpan(b * o.EmbeddingSize, idx.Length * o.EmbeddingSize));
            }
        }
        var selection = TripletSelection.Select(embeddings, o.EmbeddingSize, counts, o.Alpha, new Random(TrainingSeed.Of(o.Seed, globalStep)));
        if (selection.Triplets.Count == 0)
        {
            log?.Report("no triplet violates the margin in this sample; sampling again");
            yield return (0, 1, 0);
            yield break;
        }
        int perBatch = o.BatchSize / 3;
        for (int t = 0; t < selection.Triplets.Count && maxBatches-- > 0; t += perBatch)
        {
            var chunk = selection.Triplets.Skip(t).Take(perBatch).ToArray();
            double loss, acc;
            using (var scope = NewDisposeScope())
            {
                var batch = new float[chunk.Length * 3 * per];
                for (int j = 0; j < chunk.Length; j++)
                {
                    // a0, p0, n0, a1, ... (itertools.chain(*triplets))
                    pixels.AsSpan(keep[chunk[j].Anchor] * per, per).CopyTo(batch.AsSpan((3 * j) * per));
                    pixels.AsSpan(keep[chunk[j].Positive] * per, per).CopyTo(batch.AsSpan((3 * j + 1) * per));
                    pixels.AsSpan(keep[chunk[j].Negative] * per, per).CopyTo(batch.AsSpan((3 * j + 2) * per));
                }
                var e = EmbeddingNetwork.L2Normalize(net.forward(Input(batch, chunk.Length * 3)));
                var (dp, dn) = TripletLoss.InterleavedDistances(e);
                var tl = TripletLoss.FromDistances(dp, dn, o.Alpha);
                var regularization = Regularization();
                var total = tl + regularization;
                optimizer.zero_grad();
                total.backward();
                optimizer.step();
                globalStep++;
                averages?.Update(globalStep);
                using (no_grad()) acc = dp.lt(dn).to_type(ScalarType.Float32).mean().item<float>();
                loss = total.item<float>();
                board.Scalars(globalStep, ("loss", (float)loss), ("triplet_loss", tl.item<float>()), ("triplet_accuracy", (float)acc),
                    ("learning_rate", (float)optimizer.ParamGroups.First().LearningRate), ("triplets", selection.Triplets.Count),
                    ("regularization", regularization.item<float>()));
            }
            yield return (loss, acc, chunk.Length * 3);
        }
    }

    /// <summary>train_tripletloss.sample_people: classes in random order, up to images_per_person random images each, until people_per_batch x images_per_person.</summary>
    private (List<string> Paths, List<int> PerClass) SamplePeople()
    {
        var random = new Random(TrainingSeed.Of(o.Seed, globalStep, 7));
        int target = o.PeoplePerBatch * o.ImagesPerPerson;
        var classes = Enumerable.Range(0, trainSet.Count).Where(i => trainSet[i].ImagePaths.Count >= 2).ToArray();
        random.Shuffle(classes);
        var paths = new List<string>();
        var perClass = new List<int>();
        foreach (var c in classes)
        {
            if (paths.Count >= target) break;
            var imgs = trainSet[c].ImagePaths.ToArray();
            random.Shuffle(imgs);
            int take = Math.Min(Math.Min(imgs.Length, o.ImagesPerPerson), target - paths.Count);
            if (take < 2) break;
            paths.AddRange(imgs.Take(take));
            perClass.Add(take);
        }
        return (paths, perClass);
    }

    /// <summary>Cross entropy and accuracy on the validation split (eval mode, no augmentation).</summary>
    private (double Loss, double Accuracy) EvaluateValidation()
    {
        var items = valSet.SelectMany((c, label) => c.ImagePaths.Select(p => (Path: p, Label: (long)label))).ToArray();
        var prelogits = Embed([.. items.Select(i => i.Path)], normalize: false, flipped: false);
        var found = items.Where(i => prelogits.ContainsKey(i.Path)).ToArray();   // unreadable images are left out
        if (found.Length == 0) return (double.NaN, double.NaN);
        head!.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var x = tensor(found.SelectMany(i => prelogits[i.Path]).ToArray(), [found.Length, o.EmbeddingSize], device: device);
            var y = tensor(found.Select(i => i.Label).ToArray(), device: device);
            var (logits, scores) = head.Forward(x, y);
            double loss = nn.functional.cross_entropy(logits, y).item<float>();
            double accuracy = scores.argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
            return (loss, accuracy);
        }
        finally
        {
            head.train();
        }
    }

    /// <summary>facenet's evaluate() on the pairs: accuracy and VAL@FAR 1e-3 with its metric, and the best 1 - cos threshold for the card.</summary>
    private (double Accuracy, double Val, double Threshold) EvaluateLfw()
    {
        var paths = lfw!.Pairs.SelectMany(p => new[] { p.Path1, p.Path2 }).Distinct(StringComparer.Ordinal).ToArray();
        var emb = Embed(paths);
        // pairs with an unreadable image are left out, as pairs with a missing one are
        var pairs = lfw.Pairs.Where(p => emb.ContainsKey(p.Path1) && emb.ContainsKey(p.Path2)).ToArray();
        var e1 = pairs.Select(p => emb[p.Path1]).ToArray();
        var e2 = pairs.Select(p => emb[p.Path2]).ToArray();
        var same = pairs.Select(p => p.Pair.IsSame).ToArray();
        int folds = Math.Min(o.LfwNrofFolds, same.Length);
        var report = LfwEvaluation.Evaluate(e1, e2, same, folds,
            o.LfwDistanceMetric == 1 ? DistanceMetric.Cosine : DistanceMetric.SquaredEuclidean, o.LfwSubtractMean);
        // the card's threshold is for what the exported model outputs: the plain embedding, the first EmbeddingSize
        // values even when --lfw-use-flipped-images concatenated the mirror image's embedding after it
        int d = o.EmbeddingSize;
        var cosine = e1.Zip(e2, (a, b) => 1.0 - TensorPrimitives.CosineSimilarity(a.AsSpan(0, d), b.AsSpan(0, d))).ToArray();
        var card = LfwEvaluation.Evaluate(cosine, same, folds);
        return (report.Accuracy, report.Val, card.BestThreshold);
    }

    /// <summary>Starts the classifier from the class means of the network's embeddings of the training images (<see cref="ClassifierHead.Imprint"/>).</summary>
    private void ImprintClassifier()
    {
        var watch = Stopwatch.StartNew();
        int d = o.EmbeddingSize;
        var vectors = Embed([.. trainSet.SelectMany(c => c.ImagePaths)], normalize: false, flipped: false);
        var unitRows = new List<float>();
        var classOfRow = new List<int>();
        var raw = new float[trainSet.Count * d];
        for (int c = 0; c < trainSet.Count; c++)
        {
            var mean = raw.AsSpan(c * d, d);
            int n = 0;
            foreach (var p in trainSet[c].ImagePaths)
            {
                if (!vectors.TryGetValue(p, out var v)) continue;
                unitRows.AddRange(VectorMath.Normalized(v, d, p));
                classOfRow.Add(c);
                TensorPrimitives.Add(mean, v, mean);
                n++;
            }
            if (n == 0) throw new DatasetException($"{o.DataDir}: none of the images of class {trainSet[c].Name} could be read");
            TensorPrimitives.Divide(mean, n, mean);
        }
        // the classifiers' own class centres: each class's mean of unit rows, re-normalised
        var unit = ClassifierData.Centres(trainSet.Count, [.. unitRows], [.. classOfRow], d);
        using (var scope = NewDisposeScope())
            head!.Imprint(tensor(unit, [trainSet.Count, d], device: device), tensor(raw, [trainSet.Count, d], device: device));
        log?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Classifier imprinted with the class means of {vectors.Count} training embeddings ({watch.Elapsed.TotalSeconds:F1} s)"));
    }

    /// <summary>
    /// Embeddings of the files (eval mode), L2-normalised unless <paramref name="normalize"/> is false; with
    /// <paramref name="flipped"/> (--lfw-use-flipped-images) the embedding of the mirrored image is concatenated, as facenet does.
    /// </summary>
    private Dictionary<string, float[]> Embed(IReadOnlyList<string> paths, bool normalize = true, bool? flipped = null)
    {
        net.eval();
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        int per = 3 * o.ImageSize * o.ImageSize;
        for (int b = 0; b < paths.Count; b += o.LfwBatchSize)
        {
            var chunk = paths.Skip(b).Take(o.LfwBatchSize).ToArray();
            var pixels = new float[chunk.Length * per];
            var good = new List<string>();
            foreach (var p in chunk)
                if (stream.TryLoad(p, pixels.AsSpan(good.Count * per, per), augment: false)) good.Add(p);
            int n = good.Count;
            if (n == 0) continue;
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var x = Input(pixels.AsSpan(0, n * per).ToArray(), n);
            Tensor Vectors(Tensor input) => normalize ? EmbeddingNetwork.L2Normalize(net.forward(input)) : net.forward(input);
            var e = Vectors(x);
            if (flipped ?? o.LfwUseFlippedImages)
                e = cat([e, Vectors(x.flip(3))], 1);
            var data = e.cpu().data<float>().ToArray();
            int d = (int)e.shape[1];
            for (int i = 0; i < n; i++) result[good[i]] = data.AsSpan(i * d, d).ToArray();
        }
        net.train();
        return result;
    }

    public void Dispose()
    {
        board.Dispose();
        averages?.Dispose();
        optimizer.Dispose();
        head?.Dispose();
        net.Dispose();
    }
}
