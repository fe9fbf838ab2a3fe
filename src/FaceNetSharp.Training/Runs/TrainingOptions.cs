using System.Text.Json;
using System.Text.Json.Serialization;
using FaceNetSharp.Training.Export;

namespace FaceNetSharp.Training.Runs;

/// <summary>Network architecture (facenet <c>--model_def</c>).</summary>
public enum ModelDefinition { InceptionResnetV1, MobileFaceNet }

/// <summary>facenet <c>--optimizer</c>.</summary>
public enum OptimizerKind { Adagrad, Adadelta, Adam, RmsProp, Mom }

/// <summary>Classification loss of softmax training: facenet's softmax, or ArcFace's additive angular margin.</summary>
public enum ClassifierLoss { Softmax, ArcFace }

/// <summary>How the classifier of softmax training starts.</summary>
public enum ClassifierInit
{
    /// <summary>Imprint with a pretrained model, Xavier from scratch.</summary>
    Auto,
    /// <summary>facenet's Xavier-uniform weights and zero biases.</summary>
    Xavier,
    /// <summary>Class means of the network's embeddings (weight imprinting).</summary>
    Imprint,
}

/// <summary>Softmax or triplet training.</summary>
public enum TrainingMode { Softmax, Triplet }

/// <summary>
/// Every setting of a training run, with facenet's names and defaults (train_softmax.py and train_tripletloss.py,
/// parse_arguments); written to the run's <c>arguments.txt</c> and <c>training.json</c> (for <c>--resume</c>).
/// </summary>
public sealed record TrainingOptions
{
    public TrainingMode Mode { get; init; } = TrainingMode.Softmax;
    /// <summary>Folder of class folders of aligned face images.</summary>
    public required string DataDir { get; init; }
    /// <summary>facenet default models.inception_resnet_v1.</summary>
    public ModelDefinition ModelDef { get; init; } = ModelDefinition.InceptionResnetV1;
    /// <summary>Image size (height, width) in pixels; facenet default 160.</summary>
    public int ImageSize { get; init; } = 160;
    /// <summary>Dimensionality of the embedding; facenet default 128.</summary>
    public int EmbeddingSize { get; init; } = 128;
    /// <summary>Images per batch; facenet default 90.</summary>
    public int BatchSize { get; init; } = 90;
    /// <summary>Batches per epoch; facenet default 1000.</summary>
    public int EpochSize { get; init; } = 1000;
    /// <summary>facenet default 500.</summary>
    public int MaxNrofEpochs { get; init; } = 500;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adagrad;
    /// <summary>Initial learning rate; a negative value reads it from <see cref="LearningRateScheduleFile"/>. facenet default 0.1.</summary>
    public double LearningRate { get; init; } = 0.1;
    /// <summary>facenet default data/learning_rate_schedule.txt; only read when <see cref="LearningRate"/> is negative.</summary>
    public string? LearningRateScheduleFile { get; init; }
    /// <summary>Epochs between learning-rate decays; facenet default 100.</summary>
    public int LearningRateDecayEpochs { get; init; } = 100;
    /// <summary>facenet default 1.0 (no decay).</summary>
    public double LearningRateDecayFactor { get; init; } = 1.0;
    /// <summary>Decay of the weights' moving averages; facenet default 0.9999. Kept only with <see cref="UseMovingAverages"/>.</summary>
    public double MovingAverageDecay { get; init; } = 0.9999;
    /// <summary>
    /// Keep moving averages of the weights (<see cref="MovingAverageDecay"/>) and evaluate, checkpoint and export them
    /// (batch-norm statistics re-estimated for them). facenet keeps the averages but saves the raw weights, which is
    /// what happens without this. Not a facenet flag.
    /// </summary>
    public bool UseMovingAverages { get; init; }
    /// <summary>L2 weight regularisation; facenet default 0.0.</summary>
    public double WeightDecay { get; init; }
    /// <summary>Keep probability of dropout for the fully connected layer(s); facenet default 1.0.</summary>
    public double KeepProbability { get; init; } = 1.0;
    public bool RandomCrop { get; init; }
    public bool RandomFlip { get; init; }
    public bool RandomRotate { get; init; }
    public bool UseFixedImageStandardization { get; init; }
    public double CenterLossFactor { get; init; }
    /// <summary>facenet default 0.95.</summary>
    public double CenterLossAlfa { get; init; } = 0.95;
    public double PrelogitsNormLossFactor { get; init; }
    /// <summary>facenet default 1.0.</summary>
    public double PrelogitsNormP { get; init; } = 1.0;
    public double ValidationSetSplitRatio { get; init; }
    public int MinNrofValImagesPerClass { get; init; }
    /// <summary>facenet default 5.</summary>
    public int ValidateEveryNEpochs { get; init; } = 5;
    public string? LfwDir { get; init; }
    public string? LfwPairs { get; init; }
    /// <summary>facenet default 10.</summary>
    public int LfwNrofFolds { get; init; } = 10;
    /// <summary>0 = squared Euclidean, 1 = cosine (facenet numbering).</summary>
    public int LfwDistanceMetric { get; init; }
    public bool LfwUseFlippedImages { get; init; }
    public bool LfwSubtractMean { get; init; }
    /// <summary>facenet default 100.</summary>
    public int LfwBatchSize { get; init; } = 100;
    /// <summary>A checkpoint of this trainer, a PyTorch state dict (.pt, Inception-ResNet-v1) or an ONNX MobileFaceNet.</summary>
    public string? PretrainedModel { get; init; }
    /// <summary>facenet default ~/logs/facenet.</summary>
    public string LogsBaseDir { get; init; } = "~/logs/facenet";
    /// <summary>facenet default ~/models/facenet.</summary>
    public string ModelsBaseDir { get; init; } = "~/models/facenet";
    /// <summary>Random seed; facenet default 666.</summary>
    public int Seed { get; init; } = 666;
    public ClassifierLoss Loss { get; init; } = ClassifierLoss.Softmax;
    /// <summary>Start of the classifier weights; see <see cref="Runs.ClassifierInit"/>. Not a facenet flag.</summary>
    public ClassifierInit ClassifierInit { get; init; } = ClassifierInit.Auto;
    /// <summary>ArcFace scale s; 64 as in the ArcFace paper (Deng et al. 2019) and insightface.</summary>
    public double ArcFaceScale { get; init; } = 64;
    /// <summary>ArcFace additive angular margin m in radians; 0.5 as in the ArcFace paper.</summary>
    public double ArcFaceMargin { get; init; } = 0.5;
    /// <summary>Triplet: people sampled per batch; train_tripletloss.py default 45.</summary>
    public int PeoplePerBatch { get; init; } = 45;
    /// <summary>Triplet: images per person; train_tripletloss.py default 40.</summary>
    public int ImagesPerPerson { get; init; } = 40;
    /// <summary>Triplet: positive-to-negative margin; default 0.2.</summary>
    public double Alpha { get; init; } = 0.2;
    /// <summary>
    /// Training batches over which the batch-norm statistics are re-estimated after every epoch, before evaluation,
    /// the checkpoint and the export (<see cref="BatchNormStatistics"/>); capped at one pass over the training images.
    /// 0 keeps the exponential averages as facenet does. Not a facenet flag: facenet's 0.995 averages need thousands of
    /// steps, so short runs exported a collapsed network.
    /// </summary>
    public int BatchNormRecalibrationBatches { get; init; } = 20;
    /// <summary>libtorch device: <c>cpu</c> or <c>cuda</c> / <c>cuda:N</c> (needs a CUDA build of libtorch; see <see cref="TrainingDevice"/>).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Threads libtorch may use (0 = libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>The image standardisation the flags select.</summary>
    [JsonIgnore]
    public ImageStandardization Standardization => UseFixedImageStandardization ? ImageStandardization.Fixed : ImageStandardization.PerImage;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Expands a leading <c>~</c> to the home folder.</summary>
    public static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'))
            : path;

    /// <summary>facenet's arguments.txt: one <c>name: value</c> line per argument.</summary>
    public string ToArgumentsText()
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(this, Json));
        return string.Concat(doc.RootElement.EnumerateObject().Select(p => $"{p.Name}: {p.Value}\n"));
    }
}
