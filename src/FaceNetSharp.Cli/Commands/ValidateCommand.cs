using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Alignment;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Embedding;
using FaceNetSharp.Evaluation;
using FaceNetSharp.Imaging;
using FaceNetSharp.IO;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>The distances <c>--distance</c> takes (facenet's <c>--distance_metric</c> 0 and 1).</summary>
internal enum ValidateDistance
{
    /// <summary>facenet 0: squared euclidean distance.</summary>
    Euclidean,
    /// <summary>facenet 1: angle / pi.</summary>
    Cosine,
}

/// <summary>
/// <c>facenet validate DIR --pairs PAIRS</c>: facenet's validate_on_lfw.py. DIR holds chips aligned for the model
/// (<c>Name/Name_0001.png</c>, as <c>facenet align --mode similarity</c> writes), or, with <c>--align</c>, raw photos
/// that are aligned first into a cache folder under the user's cache folder (resumable, reused by later runs).
/// </summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext ctx)
    {
        var dir = new Argument<string>("DIR") { Description = "Aligned chips (Name/Name_0001.png), or raw photos with --align" };
        var pairs = new Option<string>("--pairs", "--lfw_pairs") { Description = "Pairs file in LFW's pairs.txt format", Required = true };
        var batch = new Option<int>("--batch-size", "--lfw_batch_size") { Description = "Images per embedder call (facenet: 100)", DefaultValueFactory = _ => 100 };
        var folds = new Option<int>("--folds", "--lfw_nrof_folds") { Description = "Cross-validation folds (facenet: 10)", DefaultValueFactory = _ => 10 };
        var distance = new Option<ValidateDistance?>("--distance") { Description = "euclidean (squared, facenet 0; the default) or cosine (angle/pi, facenet 1)" };
        var distanceMetric = new Option<int?>("--distance-metric", "--distance_metric") { Description = "facenet's spelling: 0 = euclidean, 1 = cosine" };
        var subtractMean = new Option<bool>("--subtract-mean", "--subtract_mean") { Description = "Subtract the training folds' mean embedding before measuring distances" };
        var far = new Option<double>("--far") { Description = "FAR at which VAL is reported (facenet: 1e-3)", DefaultValueFactory = _ => 1e-3 };
        var roc = new Option<string?>("--roc") { Description = "Write the ROC curve to this PNG file" };
        var report = new Option<string?>("--report") { Description = "Write the results and settings to this JSON file" };
        var align = new Option<bool>("--align") { Description = "DIR holds raw photos: detect and align them for the model first (cached)" };
        var alignedDir = new Option<string?>("--aligned-dir") { Description = "Cache folder for --align (default: $XDG_CACHE_HOME/facenetsharp/aligned/DIRNAME-TEMPLATE-SIZE-HASH, else under ~/.cache)" };
        var embedder = EmbedderCliOptions.Create();
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("validate", "Verification accuracy on LFW-style pairs (facenet's validate_on_lfw.py)")
        {
            dir, pairs, batch, folds, distance, distanceMetric, subtractMean, far, roc, report, align, alignedDir,
        };
        embedder.AddTo(cmd);
        mtcnn.AddTo(cmd);
        cmd.SetAction((parse, cancel) =>
        {
            var metric = ReadMetric(parse.GetValue(distance), parse.GetValue(distanceMetric));
            var settings = new PairValidationSettings
            {
                Folds = parse.GetValue(folds),
                Metric = metric,
                SubtractMean = parse.GetValue(subtractMean),
                FarTarget = parse.GetValue(far),
            };
            if (settings.Folds < 2) throw new ArgumentException("--folds must be at least 2");
            var pairsFile = parse.GetValue(pairs)!;
            LfwPairs lfwPairs;
            try
            {
                lfwPairs = LfwPairs.Load(pairsFile);
            }
            catch (FileNotFoundException)
            {
                throw new ArgumentException($"pairs file not found: {pairsFile}");
            }
            var inputDir = Path.GetFullPath(parse.GetValue(dir)!);
            if (!Directory.Exists(inputDir)) throw new ArgumentException($"folder not found: {inputDir}");
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new ArgumentException("--batch-size must be at least 1");

            using var recognizer = embedder.Open(parse, ctx, mtcnn.Read(parse), batchSize);
            var info = recognizer.Model;
            ctx.Console.MarkupLineInterpolated($"Model {info.Name} ({info.InputSize}x{info.InputSize}, {info.Template}), {lfwPairs.Pairs.Count} pairs ({lfwPairs.SameCount} same, {lfwPairs.DifferentCount} different) in {pairsFile}");

            string chipsDir = inputDir;
            if (parse.GetValue(align))
            {
                chipsDir = Path.GetFullPath(parse.GetValue(alignedDir) ?? DefaultAlignedDir(inputDir, info));
                AlignInto(ctx, recognizer, inputDir, chipsDir, cancel);
            }
            // resolved once: the chip check, the bar's total and the validation use the same files
            var resolved = lfwPairs.Resolve(chipsDir);
            if (resolved.Pairs.Count == 0) throw new ArgumentException(NoImagesFound(resolved, chipsDir));
            if (!parse.GetValue(align)) CheckChips(resolved, info);

            var fileEmbedder = new ImageFileEmbedder(recognizer, new ImageFileEmbedderOptions { Aligned = true, BatchSize = batchSize });
            PairValidationResult result = null!;
            ctx.Console.Progress().AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var images = resolved.Pairs.SelectMany(p => new[] { p.Path1, p.Path2 }).Distinct(StringComparer.Ordinal).Count();
                    var task = progress.AddTask("embedding", maxValue: Math.Max(1, images));
                    result = PairValidation.Run(resolved, fileEmbedder, settings, _ => task.Increment(1), cancel);
                    task.Value = task.MaxValue;
                });

            Render(ctx, result);
            if (parse.GetValue(roc) is { } rocPath)
            {
                RocPlot.Write(rocPath, result.Report, new RocPlotOptions(Title: $"{info.Name} on {Path.GetFileName(pairsFile)}"));
                ctx.Console.MarkupLineInterpolated($"ROC curve: {rocPath}");
            }
            if (parse.GetValue(report) is { } reportPath)
            {
                WriteReport(reportPath, result, info, new
                {
                    images_dir = chipsDir,
                    raw_dir = parse.GetValue(align) ? inputDir : null,
                    pairs_file = Path.GetFullPath(pairsFile),
                    folds = settings.Folds,
                    distance = metric == DistanceMetric.Cosine ? "cosine" : "euclidean",
                    distance_metric = (int)metric,
                    subtract_mean = settings.SubtractMean,
                    flip = embedder.Flip(parse),
                    batch_size = batchSize,
                    far_target = settings.FarTarget,
                    aligned_on_the_fly = parse.GetValue(align),
                });
                ctx.Console.MarkupLineInterpolated($"Report: {reportPath}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>The facenet metric from <c>--distance</c> or <c>--distance-metric</c> (they must agree when both are given).</summary>
    internal static DistanceMetric ReadMetric(ValidateDistance? distance, int? distanceMetric)
    {
        DistanceMetric? fromNumber = distanceMetric switch
        {
            null => null,
            0 => DistanceMetric.SquaredEuclidean,
            1 => DistanceMetric.Cosine,
            _ => throw new ArgumentException($"--distance-metric takes 0 (euclidean) or 1 (cosine), not {distanceMetric}"),
        };
        DistanceMetric? fromName = distance switch
        {
            null => null,
            ValidateDistance.Cosine => DistanceMetric.Cosine,
            _ => DistanceMetric.SquaredEuclidean,
        };
        if (fromNumber is not null && fromName is not null && fromNumber != fromName)
            throw new ArgumentException($"--distance {distance} and --distance-metric {distanceMetric} disagree");
        return fromName ?? fromNumber ?? DistanceMetric.SquaredEuclidean;
    }

    /// <summary>
    /// Cache of chips for <c>--align</c>, in the user's cache folder rather than beside the dataset (which may be
    /// read-only or shared): <c>$XDG_CACHE_HOME/facenetsharp/aligned/NAME-TEMPLATE-SIZE-HASH</c>, else under
    /// <c>~/.cache</c>. HASH (12 hex digits of SHA-256) is of the dataset's full path and the alignment settings, so
    /// two datasets of the same name get apart folders and models aligned alike share one.
    /// </summary>
    internal static string DefaultAlignedDir(string rawDir, EmbedderInfo info)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rawDir));
        var settings = $"{info.Template.ToString().ToLowerInvariant()}-{info.InputSize}";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{full}\n{settings}")))[..12];
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var cache = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "facenetsharp", "aligned", $"{Path.GetFileName(full)}-{settings}-{hash}");
    }

    /// <summary>What to say when not one pair has both images: the folder and the first few names looked for.</summary>
    private static string NoImagesFound(LfwResolvedPairs resolved, string dir) =>
        $"none of the {resolved.SkippedPairs.Count} pairs has its images under {dir}: {resolved.MissingImages.Count} images are missing, e.g. " +
        string.Join(", ", resolved.MissingImages.Take(3).Select(m => $"{m}.{{{string.Join(',', LfwImageResolver.Extensions.Take(2))}}}")) +
        " (the folder should hold Name/Name_0001.jpg or .png, one folder per person, as the pairs file names them)";

    private static void AlignInto(CliContext ctx, FaceRecognizer recognizer, string rawDir, string chipsDir, CancellationToken cancel)
    {
        var info = recognizer.Model;
        var aligner = new DatasetAligner(recognizer.Detector, new DatasetAlignOptions
        {
            Alignment = new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = info.Template, ImageSize = info.InputSize },
        });
        int total = DatasetAligner.ListInputs(rawDir).Count;
        ctx.Console.MarkupLineInterpolated($"Aligning {total} photos of {rawDir} into {chipsDir} (done ones are kept)");
        // lines printed from the console's thread: the aligner reports from its workers
        var summary = CliProgress.RunPolled(ctx, "aligning", total, itemDone => aligner.Run(rawDir, chipsDir,
            r => itemDone(r.Outcome == AlignOutcome.Failed ? CliProgress.Failed(Markup.Escape(r.Error ?? r.InputPath)) : null), cancel),
            cancel, autoClear: true);
        ctx.Console.MarkupLineInterpolated(
            $"aligned {summary.Aligned}, already done {summary.Skipped}, no face {summary.NoFace}, failed {summary.Failed} ({summary.Elapsed.TotalSeconds:F1} s)");
        if (summary.Cancelled) throw new OperationCanceledException();
    }

    /// <summary>Refuses chips of the wrong size up front, saying what the model expects and how to make it.</summary>
    private static void CheckChips(LfwResolvedPairs resolved, EmbedderInfo info)
    {
        var first = resolved.Pairs.FirstOrDefault();
        if (first is null) return; // nothing found: reported as missing images
        var image = ImageLoader.Load(first.Path1);
        if (image.Width == info.InputSize && image.Height == info.InputSize) return;
        throw new ArgumentException(
            $"{first.Path1} is {image.Width}x{image.Height}, but {info.Name} takes {info.InputSize}x{info.InputSize} chips aligned to the " +
            $"{info.Template} template. Make them with 'facenet align RAW_DIR OUT_DIR --mode similarity --template {info.Template.ToString().ToLowerInvariant()}', " +
            "or give the raw photos and add --align");
    }

    private static void Render(CliContext ctx, PairValidationResult result)
    {
        var r = result.Report;
        string F(double v) => v.ToString("F5", CultureInfo.InvariantCulture);
        ctx.Console.MarkupLineInterpolated($"Embedded {result.ImagesEmbedded} images in {result.EmbeddingTime.TotalSeconds:F1} s ({result.ImagesEmbedded / Math.Max(1e-3, result.EmbeddingTime.TotalSeconds):F1} img/s)");
        if (result.PairsMissing > 0)
        {
            ctx.Console.MarkupLineInterpolated($"[yellow]{result.PairsMissing} pairs left out[/]: {result.MissingImages.Count} images missing, {result.UnusableImages.Count} unusable");
            foreach (var m in result.MissingImages.Take(10)) ctx.Console.MarkupLineInterpolated($"  missing: {m}");
            if (result.MissingImages.Count > 10) ctx.Console.MarkupLineInterpolated($"  ... and {result.MissingImages.Count - 10} more");
            foreach (var u in result.UnusableImages.Take(10))
                ctx.Console.MarkupLineInterpolated($"  unusable: {(u.Outcome == FileEmbeddingOutcome.NoFace ? u.Path + ": no face" : u.Error)}");
            if (result.UnusableImages.Count > 10) ctx.Console.MarkupLineInterpolated($"  ... and {result.UnusableImages.Count - 10} more");
        }
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("pairs used", $"{result.PairsUsed} ({r.SamePairs} same, {r.DifferentPairs} different), {r.Folds} folds");
        table.AddRow("accuracy", $"{F(r.Accuracy)} ± {F(r.AccuracyStd)}");
        table.AddRow($"VAL @ FAR={r.FarTarget.ToString("G", CultureInfo.InvariantCulture)}", $"{F(r.Val)} ± {F(r.ValStd)} (FAR {F(r.Far)})");
        // AUC and EER with 4 decimals, here and in facenet's lines below (facenet prints 3: 0.9999 would read 1.000)
        string F4(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        table.AddRow("AUC", F4(r.Auc));
        table.AddRow("EER", F4(r.Eer));
        foreach (var (at, tar) in r.TarAtFar.OrderByDescending(k => k.Key))
            table.AddRow($"TAR @ FAR={at.ToString("0e0", CultureInfo.InvariantCulture)}", tar is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a (too few different pairs)");
        table.AddRow("best threshold (mean of folds)", r.BestThreshold.ToString("F4", CultureInfo.InvariantCulture));
        ctx.Console.Write(table);
        // facenet's own lines, for scripts that grep them
        ctx.Console.WriteLine($"Accuracy: {r.Accuracy.ToString("F5", CultureInfo.InvariantCulture)}+-{r.AccuracyStd.ToString("F5", CultureInfo.InvariantCulture)}");
        ctx.Console.WriteLine($"Validation rate: {r.Val.ToString("F5", CultureInfo.InvariantCulture)}+-{r.ValStd.ToString("F5", CultureInfo.InvariantCulture)} @ FAR={r.Far.ToString("F5", CultureInfo.InvariantCulture)}");
        ctx.Console.WriteLine($"Area Under Curve (AUC): {F4(r.Auc)}");
        ctx.Console.WriteLine($"Equal Error Rate (EER): {F4(r.Eer)}");
    }

    private static void WriteReport(string path, PairValidationResult result, EmbedderInfo info, object settingsJson)
    {
        var r = result.Report;
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["accuracy"] = r.Accuracy,
            ["accuracy_std"] = r.AccuracyStd,
            ["val"] = r.Val,
            ["val_std"] = r.ValStd,
            ["far"] = r.Far,
            ["auc"] = r.Auc,
            ["eer"] = r.Eer,
            ["pairs_used"] = result.PairsUsed,
            ["pairs_missing"] = result.PairsMissing,
            ["same_pairs"] = r.SamePairs,
            ["different_pairs"] = r.DifferentPairs,
            ["fold_accuracies"] = r.FoldAccuracies,
            ["best_threshold"] = r.BestThreshold,
            ["tar_at_far"] = r.TarAtFar.OrderByDescending(k => k.Key).ToDictionary(k => k.Key.ToString("0e0", CultureInfo.InvariantCulture), k => k.Value),
            ["missing_images"] = result.MissingImages,
            ["unusable_images"] = result.UnusableImages.Select(u => new { file = u.Path, reason = u.Outcome == FileEmbeddingOutcome.NoFace ? "no face" : u.Error }).ToArray(),
            ["model"] = info.Name,
            ["model_sha256"] = info.Sha256,
            ["model_threshold"] = info.Threshold,
            ["settings"] = settingsJson,
        }, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(path, json);
    }
}
