using System.CommandLine;
using FaceNetSharp.Cli;
using FaceNetSharp.Cli.Commands;
using FaceNetSharp.Models;
using FaceNetSharp.Training.Import;
using FaceNetSharp.Training.Runs;
using Spectre.Console;

namespace FaceNetSharp.Training.Cli;

/// <summary>
/// <c>facenet train softmax|triplet</c> (facenet's train_softmax.py and train_tripletloss.py flags, dashed or with
/// facenet's underscores) and <c>facenet models import</c>. Only the actions touch the training assembly's trainer, so
/// libtorch is loaded by these commands alone, never by detect/align/compare/validate.
/// </summary>
internal static class TrainCommand
{
    public static Command Create(CliContext ctx) =>
        new("train", "Train an embedder on TorchSharp (libtorch CPU) and export it as ONNX with its card")
        {
            Mode(ctx, TrainingMode.Softmax, "Classifier training (facenet train_softmax.py): softmax or ArcFace, center loss, prelogits norm loss"),
            Mode(ctx, TrainingMode.Triplet, "Triplet-loss training (facenet train_tripletloss.py) with online triplet selection"),
            CreateExport(ctx),
        };

    /// <summary><c>facenet train export CHECKPOINT|RUN_DIR [--out PATH.onnx] [--raw]</c>.</summary>
    private static Command CreateExport(CliContext ctx)
    {
        var source = new Argument<string>("CHECKPOINT") { Description = "A run's checkpoint-EEEE folder, or its models folder (latest checkpoint)" };
        var output = new Option<string?>("--out") { Description = "Where to write the ONNX model (its card goes beside it); default RUN-EEEE.onnx in the run folder" };
        var raw = new Option<bool>("--raw") { Description = "Export the trained weights even where the run kept moving averages" };
        var cmd = new Command("export", "Export a checkpoint of a training run to ONNX with a model card") { source, output, raw };
        cmd.SetAction(parse =>
        {
            var path = FaceTrainer.Export(parse.GetValue(source)!, parse.GetValue(output), parse.GetValue(raw));
            ctx.Console.MarkupLineInterpolated($"Wrote [bold]{path}[/] (use it with --model {path})");
            return 0;
        });
        return cmd;
    }

    /// <summary><c>facenet models import FILE.pt --arch inception-resnet-v1 [--out PATH.onnx]</c>.</summary>
    public static Command CreateImport(CliContext ctx)
    {
        var file = new Argument<string>("FILE") { Description = "PyTorch state dict (.pt), e.g. facenet-pytorch's 20180402-114759-vggface2.pt" };
        var arch = new Option<string>("--arch") { Description = "Architecture of the weights (inception-resnet-v1)", DefaultValueFactory = _ => "inception-resnet-v1" };
        var output = new Option<string?>("--out") { Description = "Where to write NAME.onnx (its card goes beside it); default: the model store, named after FILE" };
        var cmd = new Command("import", "Convert a PyTorch state dict to an ONNX embedder with a card") { file, arch, output };
        cmd.SetAction(parse =>
        {
            if (!string.Equals(parse.GetValue(arch), "inception-resnet-v1", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--arch {parse.GetValue(arch)}: only inception-resnet-v1 can be imported");
            var source = parse.GetValue(file)!;
            var target = parse.GetValue(output) ?? CliApp.Store(parse).PathOf(Path.GetFileNameWithoutExtension(source));
            var card = ModelImport.ImportInceptionResnetV1(source, target, DetectCommand.ModelsLog(ctx));
            ctx.Console.MarkupLineInterpolated($"Wrote [bold]{target}[/] ({card.Outputs[0].Shape[1]}-d, sha256 {card.OnnxSha256[..12]}…); open it with --model {target}");
            return 0;
        });
        return cmd;
    }

    private static Option<T> Opt<T>(string name, T defaultValue, string description)
    {
        var underscore = "--" + name.TrimStart('-').Replace('-', '_');
        var o = underscore == name ? new Option<T>(name) : new Option<T>(name, underscore);
        o.Description = description;
        o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    private static Command Mode(CliContext ctx, TrainingMode mode, string description)
    {
        var d = new TrainingOptions { DataDir = "" };
        var dataDir = Opt<string?>("--data-dir", null, "Folder of class folders of aligned face images (required unless --resume)");
        var modelDef = Opt("--model-def", "inception-resnet-v1", "inception-resnet-v1 or mobilefacenet");
        var imageSize = Opt("--image-size", d.ImageSize, "Image size in pixels (MobileFaceNet: 112)");
        var embeddingSize = Opt("--embedding-size", d.EmbeddingSize, "Dimensionality of the embedding");
        var batchSize = Opt("--batch-size", d.BatchSize, "Images per batch");
        var epochSize = Opt("--epoch-size", d.EpochSize, "Batches per epoch");
        var maxEpochs = Opt("--max-nrof-epochs", d.MaxNrofEpochs, "Number of epochs to run");
        var optimizer = Opt("--optimizer", "ADAGRAD", "ADAGRAD, ADADELTA, ADAM, RMSPROP or MOM");
        var lr = Opt("--learning-rate", d.LearningRate, "Initial learning rate; -1 reads --learning-rate-schedule-file");
        var lrFile = Opt<string?>("--learning-rate-schedule-file", null, "File of 'epoch: learning_rate' lines");
        var decayEpochs = Opt("--learning-rate-decay-epochs", d.LearningRateDecayEpochs, "Epochs between learning-rate decays");
        var decayFactor = Opt("--learning-rate-decay-factor", d.LearningRateDecayFactor, "Learning-rate decay factor");
        var mad = Opt("--moving-average-decay", d.MovingAverageDecay, "Decay of the weights' moving averages (kept with --use-moving-averages)");
        var useAverages = Opt("--use-moving-averages", false, "Evaluate, checkpoint and export the moving averages of the weights (facenet saves the raw weights)");
        var wd = Opt("--weight-decay", d.WeightDecay, "L2 weight regularisation");
        var keep = Opt("--keep-probability", d.KeepProbability, "Keep probability of dropout before the bottleneck (Inception-ResNet-v1)");
        var crop = Opt("--random-crop", false, "Random crops of --image-size (else central crop)");
        var flip = Opt("--random-flip", false, "Random horizontal flips");
        var rotate = Opt("--random-rotate", false, "Random rotations in [-10, 10] degrees");
        var fixedStd = Opt("--use-fixed-image-standardization", false, "(x - 127.5) / 128 instead of per-image standardisation");
        var seed = Opt("--seed", d.Seed, "Random seed");
        var pretrained = Opt<string?>("--pretrained-model", null,
            "Checkpoint folder, model.dat, PyTorch .pt state dict, ONNX MobileFaceNet (fine-tuned folded), or 'mobilefacenet' (the installed one); " +
            "--model-def, --image-size and --embedding-size default to the model's");
        var logsBase = Opt("--logs-base-dir", d.LogsBaseDir, "Folder under which the run's log folder is made");
        var modelsBase = Opt("--models-base-dir", d.ModelsBaseDir, "Folder under which the run's model folder is made");
        var lfwDir = Opt<string?>("--lfw-dir", null, "Aligned verification images (evaluated after each epoch; sets the card's threshold)");
        var lfwPairs = Opt<string?>("--lfw-pairs", null, "Pairs file for --lfw-dir");
        var lfwFolds = Opt("--lfw-nrof-folds", d.LfwNrofFolds, "Cross-validation folds of the verification");
        var lfwMetric = Opt("--lfw-distance-metric", d.LfwDistanceMetric, "0: squared Euclidean, 1: cosine");
        var lfwFlip = Opt("--lfw-use-flipped-images", false, "Concatenate the embeddings of the flipped images");
        var lfwMean = Opt("--lfw-subtract-mean", false, "Subtract the training folds' mean before distances");
        var lfwBatch = Opt("--lfw-batch-size", d.LfwBatchSize, "Images per batch when embedding verification images");
        var threads = Opt("--threads", 0, "libtorch threads (0: its default)");
        var device = Opt("--device", "cpu", "cpu, cuda or cuda:N (CUDA needs libtorch's CUDA package; this build has the CPU one)");
        var bnBatches = Opt("--batch-norm-recalibration-batches", d.BatchNormRecalibrationBatches,
            "Training batches over which batch-norm statistics are re-estimated after each epoch, before evaluation and export (0: keep facenet's moving averages)");
        var resume = Opt<string?>("--resume", null, "Continue the run in this models folder after its latest checkpoint (its saved settings are used)");
        var cmd = new Command(mode.ToString().ToLowerInvariant(), description)
        {
            dataDir, modelDef, imageSize, embeddingSize, batchSize, epochSize, maxEpochs, optimizer, lr, lrFile, decayEpochs, decayFactor, mad, wd,
            keep, crop, flip, rotate, fixedStd, seed, pretrained, logsBase, modelsBase, lfwDir, lfwPairs, lfwFolds, lfwMetric, lfwFlip, lfwMean,
            lfwBatch, threads, device, bnBatches, useAverages, resume,
        };
        // softmax only
        var center = Opt("--center-loss-factor", d.CenterLossFactor, "Center loss weight");
        var centerAlfa = Opt("--center-loss-alfa", d.CenterLossAlfa, "Center update rate");
        var normFactor = Opt("--prelogits-norm-loss-factor", d.PrelogitsNormLossFactor, "Prelogits norm loss weight");
        var normP = Opt("--prelogits-norm-p", d.PrelogitsNormP, "Norm of the prelogits norm loss");
        var split = Opt("--validation-set-split-ratio", d.ValidationSetSplitRatio, "Fraction of each class held out for validation");
        var minVal = Opt("--min-nrof-val-images-per-class", d.MinNrofValImagesPerClass, "Classes with fewer images are dropped (facenet's test)");
        var validateEvery = Opt("--validate-every-n-epochs", d.ValidateEveryNEpochs, "Validation frequency");
        var loss = Opt("--loss", "softmax", "softmax or arcface");
        var arcScale = Opt("--arcface-scale", d.ArcFaceScale, "ArcFace scale s");
        var arcMargin = Opt("--arcface-margin", d.ArcFaceMargin, "ArcFace angular margin m (radians)");
        var classifierInit = Opt("--classifier-init", "auto", "auto (imprint with --pretrained-model, else xavier), xavier (facenet's) or imprint (class means of the embeddings)");
        // triplet only
        var people = Opt("--people-per-batch", d.PeoplePerBatch, "People sampled per batch");
        var images = Opt("--images-per-person", d.ImagesPerPerson, "Images sampled per person");
        var alpha = Opt("--alpha", d.Alpha, "Triplet margin");
        if (mode == TrainingMode.Softmax)
            foreach (var o in new Option[] { center, centerAlfa, normFactor, normP, split, minVal, validateEvery, loss, arcScale, arcMargin, classifierInit }) cmd.Add(o);
        else
            foreach (var o in new Option[] { people, images, alpha }) cmd.Add(o);

        cmd.SetAction(async (parse, cancel) =>
        {
            // options of the other mode are not on this command: their defaults apply
            T Get<T>(Option<T> option, T fallback) => cmd.Options.Contains(option) ? parse.GetValue(option)! : fallback;
            var log = new SyncProgress<string>(m => ctx.Console.MarkupLineInterpolated($"{m}"));
            var resumeDir = parse.GetValue(resume);
            TrainingOptions? options = null;
            if (resumeDir is null)
            {
                var data = parse.GetValue(dataDir) ?? throw new ArgumentException("--data-dir is required (or --resume RUN_DIR)");
                var def = parse.GetValue(modelDef)!.ToLowerInvariant() switch
                {
                    "inception-resnet-v1" or "inception_resnet_v1" or "models.inception_resnet_v1" => ModelDefinition.InceptionResnetV1,
                    "mobilefacenet" => ModelDefinition.MobileFaceNet,
                    var other => throw new ArgumentException($"--model-def {other}: use inception-resnet-v1 or mobilefacenet"),
                };
                int size = parse.GetValue(imageSize), width = parse.GetValue(embeddingSize);
                bool fixedStandardization = parse.GetValue(fixedStd);
                // --pretrained-model mobilefacenet names the installed model; the flags the weights fix are read from them
                var pre = parse.GetValue(pretrained) is { } given ? PretrainedWeights.Resolve(given, CliApp.Store(parse), DetectCommand.ModelsLog(ctx)) : null;
                if (pre is not null)
                {
                    var shape = PretrainedWeights.Describe(pre);
                    var taken = new List<string>();
                    T Fit<T>(Option option, T value, T? fromModel, Func<T, string> show) where T : struct
                    {
                        if (fromModel is not { } m || EqualityComparer<T>.Default.Equals(value, m)) return value;
                        if (parse.GetResult(option) is { Implicit: false })
                            throw new ArgumentException($"{option.Name} {show(value)} does not fit --pretrained-model {pre}, which needs {option.Name} {show(m)}: " +
                                $"leave {option.Name} out (it is then taken from the model) or give {option.Name} {show(m)}");
                        taken.Add($"{option.Name} {show(m)}");
                        return m;
                    }
                    def = Fit(modelDef, def, shape.ModelDef, d => d == ModelDefinition.MobileFaceNet ? "mobilefacenet" : "inception-resnet-v1");
                    size = Fit(imageSize, size, shape.ImageSize, v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    width = Fit(embeddingSize, width, shape.EmbeddingSize, v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    fixedStandardization = Fit(fixedStd, fixedStandardization, shape.FixedStandardization, v => v ? "true" : "false");
                    if (taken.Count > 0) log.Report($"from the pretrained model {pre}: {string.Join(" ", taken)}");
                }
                options = new TrainingOptions
                {
                    Mode = mode,
                    DataDir = data,
                    ModelDef = def,
                    ImageSize = size, EmbeddingSize = width, BatchSize = parse.GetValue(batchSize),
                    EpochSize = parse.GetValue(epochSize), MaxNrofEpochs = parse.GetValue(maxEpochs),
                    Optimizer = parse.GetValue(optimizer)!.ToUpperInvariant() switch
                    {
                        "ADAGRAD" => OptimizerKind.Adagrad, "ADADELTA" => OptimizerKind.Adadelta, "ADAM" => OptimizerKind.Adam,
                        "RMSPROP" => OptimizerKind.RmsProp, "MOM" => OptimizerKind.Mom,
                        var other => throw new ArgumentException($"--optimizer {other}: use ADAGRAD, ADADELTA, ADAM, RMSPROP or MOM"),
                    },
                    LearningRate = parse.GetValue(lr), LearningRateScheduleFile = parse.GetValue(lrFile),
                    LearningRateDecayEpochs = parse.GetValue(decayEpochs), LearningRateDecayFactor = parse.GetValue(decayFactor),
                    MovingAverageDecay = parse.GetValue(mad), WeightDecay = parse.GetValue(wd), KeepProbability = parse.GetValue(keep),
                    RandomCrop = parse.GetValue(crop), RandomFlip = parse.GetValue(flip), RandomRotate = parse.GetValue(rotate),
                    UseFixedImageStandardization = fixedStandardization, Seed = parse.GetValue(seed), PretrainedModel = pre,
                    LogsBaseDir = parse.GetValue(logsBase)!, ModelsBaseDir = parse.GetValue(modelsBase)!,
                    LfwDir = parse.GetValue(lfwDir), LfwPairs = parse.GetValue(lfwPairs), LfwNrofFolds = parse.GetValue(lfwFolds),
                    LfwDistanceMetric = parse.GetValue(lfwMetric), LfwUseFlippedImages = parse.GetValue(lfwFlip),
                    LfwSubtractMean = parse.GetValue(lfwMean), LfwBatchSize = parse.GetValue(lfwBatch), Threads = parse.GetValue(threads),
                    CenterLossFactor = Get(center, d.CenterLossFactor), CenterLossAlfa = Get(centerAlfa, d.CenterLossAlfa),
                    PrelogitsNormLossFactor = Get(normFactor, d.PrelogitsNormLossFactor), PrelogitsNormP = Get(normP, d.PrelogitsNormP),
                    ValidationSetSplitRatio = Get(split, d.ValidationSetSplitRatio), MinNrofValImagesPerClass = Get(minVal, d.MinNrofValImagesPerClass),
                    ValidateEveryNEpochs = Get(validateEvery, d.ValidateEveryNEpochs),
                    Loss = Get(loss, "softmax").ToLowerInvariant() switch
                    {
                        "softmax" => ClassifierLoss.Softmax, "arcface" => ClassifierLoss.ArcFace,
                        var other => throw new ArgumentException($"--loss {other}: use softmax or arcface"),
                    },
                    ClassifierInit = Get(classifierInit, "auto").ToLowerInvariant() switch
                    {
                        "auto" => ClassifierInit.Auto, "xavier" => ClassifierInit.Xavier, "imprint" => ClassifierInit.Imprint,
                        var other => throw new ArgumentException($"--classifier-init {other}: use auto, xavier or imprint"),
                    },
                    Device = parse.GetValue(device)!, BatchNormRecalibrationBatches = parse.GetValue(bnBatches), UseMovingAverages = parse.GetValue(useAverages),
                    ArcFaceScale = Get(arcScale, d.ArcFaceScale), ArcFaceMargin = Get(arcMargin, d.ArcFaceMargin),
                    PeoplePerBatch = Get(people, d.PeoplePerBatch), ImagesPerPerson = Get(images, d.ImagesPerPerson), Alpha = Get(alpha, d.Alpha),
                };
            }
            int? maxOverride = resumeDir is not null && parse.GetResult(maxEpochs) is { Implicit: false } ? parse.GetValue(maxEpochs) : null;
            TrainingResult result;
            string? runDir = resumeDir;
            try
            {
                // on a worker thread, so that System.CommandLine's Ctrl-C handler sees the action started and waits for it to stop
                result = await Task.Run(() => RunWithProgress(ctx, options, log, resumeDir, maxOverride, cancel, dir => runDir = dir), CancellationToken.None);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // System.CommandLine cancels on SIGINT (Ctrl-C) and SIGTERM; exit 130, as for Ctrl-C, either way
                ctx.Console.MarkupLineInterpolated($"[yellow]Stopped.[/] The last finished epoch's checkpoint is kept; continue with:");
                ctx.Console.MarkupLineInterpolated($"  facenet train {mode.ToString().ToLowerInvariant()} --resume {runDir ?? "RUN_MODELS_DIR"}");
                return 130;
            }
            ctx.Console.MarkupLineInterpolated($"Model: [bold]{result.OnnxPath}[/] (use it with --model {result.OnnxPath})");
            ctx.Console.MarkupLineInterpolated($"Logs: {result.LogDirectory} (tensorboard --logdir {result.LogDirectory})");
            if (result.UnreadableImages > 0)
                ctx.Console.MarkupLineInterpolated($"[yellow]{result.UnreadableImages} unreadable image(s) were skipped[/]");
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs the trainer under a progress bar per epoch (loss, accuracy and images/s in its description).</summary>
    private static TrainingResult RunWithProgress(CliContext ctx, TrainingOptions? options, IProgress<string> log, string? resumeDir,
        int? maxOverride, CancellationToken cancel, Action<string> runDirectory)
    {
        TrainingResult? result = null;
        ctx.Console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .Start(progress =>
            {
                ProgressTask? task = null;
                var report = new SyncProgress<TrainingProgress>(p =>
                {
                    if (p.Batch == 0)
                    {
                        runDirectory(p.ModelDirectory);
                        task?.StopTask();
                        task = progress.AddTask($"epoch {p.Epoch}/{p.MaxEpochs}", maxValue: p.Batches);
                        return;
                    }
                    task!.Value = p.Batch;
                    task.Description = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"epoch {p.Epoch}/{p.MaxEpochs} loss {p.Loss:F3} acc {p.Accuracy:F3} {p.ImagesPerSecond:F1} img/s");
                });
                result = FaceTrainer.Run(options, log, resumeDir, maxOverride, cancel, report);
            });
        return result!;
    }
}
