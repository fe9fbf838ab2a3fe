using System.CommandLine;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet classify train|predict DATA_DIR CLASSIFIER_FILE</c>: facenet's classifier.py (modes TRAIN and
/// CLASSIFY) on a folder of people, with an open-set "unknown" answer. Flags keep facenet's names and defaults
/// (<c>--min_nrof_images_per_class</c> and <c>--min-nrof-images-per-class</c> both work).
/// </summary>
internal static class ClassifyCommand
{
    /// <summary>facenet classifier.py: <c>--seed</c> 666, <c>--min_nrof_images_per_class</c> 20, <c>--nrof_train_images_per_class</c> 10.</summary>
    private const int FacenetSeed = 666;
    private const int FacenetMinImagesPerClass = 20;
    private const int FacenetTrainImagesPerClass = 10;

    public static Command Create(CliContext ctx)
    {
        var cmd = new Command("classify", "Train a classifier of people on a folder of faces, or classify with it (facenet's classifier.py)");
        cmd.Add(Mode(ctx, train: true));
        cmd.Add(Mode(ctx, train: false));
        return cmd;
    }

    private static Command Mode(CliContext ctx, bool train)
    {
        var data = new Argument<string>("DATA_DIR") { Description = "Folder of people: Name/*.jpg (photos, or chips with --aligned)" };
        var file = new Argument<string>("CLASSIFIER_FILE") { Description = train ? "Classifier file to write (JSON)" : "Classifier file written by classify train" };
        var model = ModelOption.Create();
        var aligned = new Option<bool>("--aligned") { Description = "The images are aligned face chips: embed them as they are (resized to the model's input) instead of detecting faces" };
        var split = new Option<bool>("--use-split-dataset", "--use_split_dataset") { Description = "Split each class into train and test images (facenet); train uses the train part, predict the test part" };
        var minImages = new Option<int>("--min-nrof-images-per-class", "--min_nrof_images_per_class") { Description = "With --use-split-dataset, classes with fewer images are left out (facenet: 20)", DefaultValueFactory = _ => FacenetMinImagesPerClass };
        var trainImages = new Option<int>("--nrof-train-images-per-class", "--nrof_train_images_per_class") { Description = "With --use-split-dataset, training images per class (facenet: 10)", DefaultValueFactory = _ => FacenetTrainImagesPerClass };
        var seed = new Option<int>("--seed") { Description = "Seed of the split and of --hold-out-classes (facenet: 666)", DefaultValueFactory = _ => FacenetSeed };
        var workers = new Option<int>("--workers") { Description = "Images processed at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command(train ? "train" : "predict", train
            ? "Embed the faces of DATA_DIR and train a classifier on them (facenet: TRAIN)"
            : "Classify the faces of DATA_DIR, print each prediction and the accuracy (facenet: CLASSIFY)")
        {
            data, file, model, aligned, split, minImages, trainImages, seed, workers,
        };
        mtcnn.AddTo(cmd);

        var method = new Option<ClassifierMethod>("--method") { Description = "knn (nearest training faces), centre (nearest class mean) or svm (linear SVM, facenet's choice)", DefaultValueFactory = _ => ClassifierMethod.Knn };
        var k = new Option<int>("--k") { Description = "Neighbours that vote, knn (1: the open-set distance is the nearest face's, as calibrated)", DefaultValueFactory = _ => 1 };
        var threshold = new Option<float?>("--unknown-threshold") { Description = "Distance at or above which a face is unknown (default: calibrated on the training faces and stored in the file)" };
        var targetFar = new Option<double?>("--target-far") { Description = "Calibrate for this false-accept rate of strangers instead of the best balanced accuracy" };
        var holdOut = new Option<int>("--hold-out-classes") { Description = "Leave this many randomly chosen people out of training entirely (open-set test: predict answers them unknown or not)", DefaultValueFactory = _ => 0 };
        var predictThreshold = new Option<float?>("--unknown-threshold") { Description = "Distance at or above which a face is unknown (overrides --fpir, --far and the file's threshold)" };
        var rates = new IdentificationCliOptions(predictThreshold);
        if (train)
        {
            cmd.Add(method);
            cmd.Add(k);
            cmd.Add(threshold);
            cmd.Add(targetFar);
            cmd.Add(holdOut);
        }
        else
        {
            rates.AddTo(cmd);
        }

        int Run(ParseResult parse, CancellationToken cancel)
        {
            var dir = parse.GetValue(data)!;
            var unreadable = new List<string>();
            var classes = FaceDataset.Load(dir, unreadable.Add);
            foreach (var problem in unreadable) ctx.Errors.MarkupLineInterpolated($"[red]failed:[/] {problem} (left out)");
            if (classes.Sum(c => c.ImagePaths.Count) == 0) // before models load
                throw new ArgumentException($"no images found under {dir}: it should hold one folder per person with their images (Name/Name_0001.jpg)" +
                    (unreadable.Count > 0 ? $"; {unreadable.Count} folders could not be listed" : ""));
            if (parse.GetValue(split))
            {
                int min = parse.GetValue(minImages);
                var small = classes.Where(c => c.ImagePaths.Count < min).ToList();
                if (small.Count == classes.Count)
                    throw new ArgumentException($"all {classes.Count} classes of {dir} have fewer than {min} images (the largest has {classes.Max(c => c.ImagePaths.Count)}), " +
                        "so --use-split-dataset drops them all: lower --min-nrof-images-per-class, or leave out --use-split-dataset");
                if (small.Count > 0)
                    ctx.Console.MarkupLineInterpolated(
                        $"[yellow]{small.Count} of {classes.Count} classes dropped: fewer than {min} images (--min-nrof-images-per-class), e.g. {string.Join(", ", small.Take(3).Select(c => $"{c.Name} ({c.ImagePaths.Count})"))}[/]");
                var (trainSet, testSet) = FaceDataset.Split(classes, min, parse.GetValue(trainImages), parse.GetValue(seed));
                classes = train ? trainSet : testSet;
            }
            using var recognizer = RecognizerCliOptions.Open(ctx, parse, model, mtcnn);
            var info = recognizer.Model;
            var input = parse.GetValue(aligned) ? FaceInput.Aligned : FaceInput.Detect;
            var metric = info.Metric;

            if (train)
            {
                var (kept, heldOut) = FaceDataset.HoldOut(classes, parse.GetValue(holdOut), parse.GetValue(seed));
                if (heldOut.Count > 0)
                    ctx.Console.MarkupLineInterpolated($"held out of training: {string.Join(", ", heldOut.Select(c => c.Name))}");
                var (paths, labels) = Flatten(kept);
                ctx.Console.MarkupLineInterpolated($"Number of classes: {kept.Count}");
                ctx.Console.MarkupLineInterpolated($"Number of images: {paths.Count}");
                var photos = RecognizerCliOptions.EmbedWithProgress(ctx, recognizer, paths, input, largestOnly: true, parse.GetValue(workers), "embedding", cancel);
                var samples = photos.Select((p, i) => (p, Label: labels[i])).Where(x => x.p.Largest is not null)
                    .Select(x => (x.Label, x.p.Largest!.Vector)).ToList();
                var far = parse.GetValue(targetFar);
                var options = new ClassifierTrainingOptions
                {
                    Method = parse.GetValue(method),
                    K = parse.GetValue(k),
                    Threshold = parse.GetValue(threshold),
                    Objective = far is null ? ThresholdObjective.BestBalancedAccuracy : ThresholdObjective.TargetFalseAcceptRate,
                    TargetFalseAcceptRate = far ?? 0.01,
                };
                var trained = ClassifierTraining.Train(info.Name, info.Dimensions, metric, samples, options, info.Threshold);
                var path = parse.GetValue(file)!;
                trained.Classifier.Save(path);
                ctx.Console.MarkupLineInterpolated($"Trained {trained.Classifier.Method} on {samples.Count} faces of {trained.Classifier.Classes.Count} people ({paths.Count - samples.Count} images without a face)");
                if (trained.Calibration is { } c)
                    ctx.Console.MarkupLineInterpolated(
                        $"Unknown threshold {c.Threshold:F3} ({EmbeddingMetrics.Name(metric)} distance), calibrated leave-one-out on the training faces: FAR {c.FalseAcceptRate:P1} of {c.ImpostorCount}, FRR {c.FalseRejectRate:P1} of {c.GenuineCount}");
                else
                    ctx.Console.MarkupLineInterpolated($"Unknown threshold {trained.Classifier.Threshold:F3} ({EmbeddingMetrics.Name(metric)} distance, {(options.Threshold is null ? "the model's" : "given")})");
                ctx.Console.MarkupLineInterpolated($"Saved classifier model to file \"{path}\"");
                return 0;
            }
            else
            {
                var classifier = EmbeddingClassifiers.Load(parse.GetValue(file)!, info.Name, info.Dimensions);
                var known = classifier.Classes.ToHashSet(StringComparer.Ordinal);
                // Open set: the operating point for --fpir (or --far) at the classifier's size, its classes (people; see
                // IdentificationThreshold.Comparisons). Without a flag, the file's own threshold where it is the stricter.
                int comparisons = IdentificationThreshold.Comparisons(classifier.Classes.Count);
                var choice = rates.Read(parse, info, comparisons);
                bool flagged = parse.GetValue(predictThreshold) is not null || parse.GetValue(rates.FarOption) is not null || parse.GetValue(rates.FpirOption) is not null;
                float unknownAt = flagged ? choice.Threshold : Math.Min(choice.Threshold, classifier.Threshold);
                string operatingPoint = unknownAt == choice.Threshold
                    ? choice.Describe("classes")
                    : $"threshold {unknownAt:F3}: the classifier file's, stricter than {choice.Describe("classes")}";
                ctx.Console.MarkupLineInterpolated($"Unknown at or above {operatingPoint}");
                var (paths, labels) = Flatten(classes);
                ctx.Console.MarkupLineInterpolated($"Number of classes: {classes.Count} ({classes.Count(c => known.Contains(c.Name))} known to the classifier)");
                ctx.Console.MarkupLineInterpolated($"Number of images: {paths.Count}");
                var photos = RecognizerCliOptions.EmbedWithProgress(ctx, recognizer, paths, input, largestOnly: true, parse.GetValue(workers), "classifying", cancel);
                var rows = new List<ClassifiedImage>();
                int noFace = 0;
                for (int i = 0; i < photos.Count; i++)
                {
                    if (photos[i].Largest is not { } face) { noFace++; continue; }
                    var predicted = classifier.Predict(face.Vector);
                    predicted = predicted with { Label = predicted.Distance < unknownAt ? predicted.NearestClass : null };
                    var row = new ClassifiedImage(paths[i], labels[i], predicted, known.Contains(labels[i]));
                    rows.Add(row);
                    var p = row.Prediction;
                    var answer = p.Label ?? "unknown";
                    var mark = row.IsCorrect ? "[green]ok[/]" : "[red]wrong[/]";
                    // facenet prints '%4d  %s: %.3f' (index, class, SVM probability); the distance decides "unknown".
                    var probability = p.Probability is { } pr ? $"p={pr:F3} " : "";
                    ctx.Console.MarkupLine($"{i,4}  {Markup.Escape(answer)}: {probability}distance {p.Distance:F3}  {mark} [grey](nearest {Markup.Escape(p.NearestClass)}; true {Markup.Escape(labels[i])}{(row.IsEnrolled ? "" : ", not enrolled")})[/]");
                }
                var s = ClassificationSummary.From(rows);
                var table = new Table().AddColumns("faces", "accuracy (unknown = wrong)", "closed-set accuracy", "known answered unknown", "strangers", "strangers answered unknown", "no face / failed");
                table.AddRow(rows.Count.ToString(), $"{s.Accuracy:F3}", $"{s.ClosedSetAccuracy:F3}", s.EnrolledUnknown.ToString(),
                    s.Strangers.ToString(), s.Strangers == 0 ? "-" : $"{s.StrangersUnknown} ({s.StrangerRejectionRate:P1})", noFace.ToString());
                ctx.Console.Write(table);
                ctx.Console.MarkupLineInterpolated($"Accuracy: {s.Accuracy:F3}");
                return 0;
            }
        }
        cmd.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return cmd;
    }

    private static (List<string> Paths, List<string> Labels) Flatten(IReadOnlyList<FaceClass> classes)
    {
        var paths = new List<string>();
        var labels = new List<string>();
        foreach (var c in classes)
            foreach (var p in c.ImagePaths) { paths.Add(p); labels.Add(c.Name); }
        return (paths, labels);
    }

}
