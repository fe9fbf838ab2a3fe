using System.Text.Json;
using FaceNetSharp.Evaluation;
using FaceNetSharp.Recognition;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Logging;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>One training run: the networks, the optimiser, the folders and the loop.</summary>
internal sealed partial class TrainingRun : IDisposable
{
    // facenet.py: prelogits_norm = tf.reduce_mean(tf.norm(tf.abs(prelogits)+eps, ord=p, axis=1)), eps = 1e-4.
    private const double PrelogitsNormEps = 1e-4;
    internal const string OptionsFile = "training.json";
    internal const string CheckpointPrefix = "checkpoint-";

    private readonly TrainingOptions o;
    private readonly IProgress<string>? log;
    private readonly string runName, modelDir, logDir;
    private readonly IReadOnlyList<FaceClass> trainSet, valSet;
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
            (trainSet, valSet) = TrainingSplit.Split(dataset, o.ValidationSetSplitRatio, o.MinNrofValImagesPerClass, random);
        else
            (trainSet, valSet) = (dataset, []);
        if (o.Mode == TrainingMode.Triplet)
            TrainingSplit.RequireUsable(trainSet, o.DataDir, minClasses: 2, minImages: 2);
        else
            TrainingSplit.RequireUsable(trainSet, o.DataDir, minClasses: 2, minImages: 1);
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

    public void Dispose()
    {
        board.Dispose();
        averages?.Dispose();
        optimizer.Dispose();
        head?.Dispose();
        net.Dispose();
    }
}
