using System.CommandLine;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet cluster INPUT_DIR OUTPUT_DIR</c>: every face of every photo under INPUT_DIR, grouped by identity
/// (facenet's contributed/cluster.py and clustering.py), written as one folder of chips and one contact sheet per
/// cluster, plus clusters.json.
/// </summary>
internal static class ClusterCommand
{
    /// <summary>
    /// The files the folder walk picks up, by extension: what <see cref="Imaging.ImageLoader"/> decodes (SkiaSharp's
    /// formats and PNM). Other files (JSON, weights, text) beside the photos are skipped silently.
    /// </summary>
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".pgm", ".ppm", ".pnm", ".pbm",
    };

    public static Command Create(CliContext ctx)
    {
        var input = new Argument<string>("INPUT_DIR") { Description = "Folder of photos (searched recursively)" };
        var output = new Argument<string>("OUTPUT_DIR") { Description = "Where cluster folders, contact sheets and clusters.json go" };
        var algorithm = new Option<string>("--algorithm") { Description = "chinese-whispers (facenet clustering.py, dlib) or dbscan (facenet cluster.py)", DefaultValueFactory = _ => "chinese-whispers" };
        algorithm.AcceptOnlyFromAmong("chinese-whispers", "dbscan");
        var threshold = new Option<float?>("--threshold") { Description = "Distance that joins two faces (default: the model's same-person threshold, in its metric)" };
        var far = new Option<double?>("--far") { Description = "Join two faces below the model's operating point for this false-accept rate per pair instead (e.g. 0.001: fewer people merged, more split)" };
        var minSize = new Option<int>("--min-cluster-size", "--min_cluster_size") { Description = "Smaller clusters become noise; DBSCAN's min_samples too (facenet cluster.py: 1)", DefaultValueFactory = _ => 1 };
        var aligned = new Option<bool>("--aligned") { Description = "The images are aligned face chips: one face each, no detection" };
        var score = new Option<bool>("--score") { Description = "Score against the truth given by the folders: a photo's parent folder names its person (photos directly in INPUT_DIR are not scored)" };
        var seed = new Option<int>("--seed") { Description = "Seed of Chinese whispers' visiting order", DefaultValueFactory = _ => 0 };
        var workers = new Option<int>("--workers") { Description = "Images processed at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var model = ModelOption.Create();
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("cluster", "Group every face of a folder of photos by person")
        {
            input, output, algorithm, threshold, far, minSize, aligned, score, seed, workers, model,
        };
        mtcnn.AddTo(cmd);
        cmd.SetAction((parse, cancel) =>
        {
            var inputDir = parse.GetValue(input)!;
            if (parse.GetValue(minSize) < 1) throw new ArgumentException("--min-cluster-size must be at least 1");   // before the walk and the models
            if (!Directory.Exists(inputDir)) throw new DirectoryNotFoundException($"input folder not found: {inputDir}");
            var unreadable = new List<string>();
            var files = ImageFiles(inputDir, unreadable.Add);
            if (files.Count == 0) // before models load, and nothing is written
                throw new ArgumentException($"no images found under {inputDir}{(unreadable.Count > 0 ? $" ({unreadable.Count} folders could not be listed)" : "")}");
            foreach (var problem in unreadable) ctx.Errors.MarkupLineInterpolated($"[red]failed:[/] {problem} (left out)");
            using var recognizer = RecognizerCliOptions.Open(ctx, parse, model, mtcnn);
            var info = recognizer.Model;
            // Clustering compares pairs, not a probe with a gallery: the 1:1 threshold by default, or an operating point for --far.
            var joinAt = parse.GetValue(threshold) is { } given ? ThresholdChoice.Explicit(given)
                : parse.GetValue(far) is { } perPair ? IdentificationThreshold.Choose(info, 1, far: perPair)
                : null;
            var options = new PhotoClusteringOptions
            {
                Algorithm = parse.GetValue(algorithm) == "dbscan" ? ClusterAlgorithm.Dbscan : ClusterAlgorithm.ChineseWhispers,
                Threshold = joinAt?.Threshold ?? info.Threshold,
                Metric = info.Metric,
                MinClusterSize = parse.GetValue(minSize),
                Seed = parse.GetValue(seed),
            };
            ctx.Console.MarkupLineInterpolated($"{files.Count} images under {inputDir}");
            var photos = RecognizerCliOptions.EmbedWithProgress(ctx, recognizer, files,
                parse.GetValue(aligned) ? FaceInput.Aligned : FaceInput.Detect, largestOnly: false, parse.GetValue(workers), "finding faces", cancel);
            var faces = PhotoClustering.Cluster(photos, options);
            var outputDir = parse.GetValue(output)!;
            var summary = PhotoClustering.WriteOutput(outputDir, inputDir, faces, photos, options, info.Name);

            var table = new Table().AddColumns("cluster", "faces", "contact sheet");
            foreach (var g in faces.GroupBy(f => f.Cluster).OrderBy(g => g.Key == Clustering.Noise ? int.MaxValue : g.Key))
                table.AddRow(PhotoClustering.FolderName(g.Key), g.Count().ToString(), Markup.Escape(Path.Combine(outputDir, PhotoClustering.FolderName(g.Key) + ".png")));
            ctx.Console.Write(table);
            int noFace = photos.Count(p => p.Outcome == PhotoOutcome.NoFace), failed = photos.Count(p => p.Outcome == PhotoOutcome.Failed);
            ctx.Console.MarkupLineInterpolated(
                $"{faces.Count} faces in {summary.ClusterCount} clusters ({summary.NoiseCount} noise; {options.Algorithm}, {joinAt?.Describe() ?? $"threshold {options.Threshold:F3}: the model's 1:1 same-person threshold"}, {options.Metric}); {noFace} images without a face, {failed} failed");
            ctx.Console.MarkupLineInterpolated($"Wrote {summary.JsonPath}");

            if (parse.GetValue(score)) Score(ctx, inputDir, faces);
            return Task.FromResult(failed == 0 && unreadable.Count == 0 ? 0 : 1);
        });
        return cmd;
    }

    /// <summary>Pairwise precision/recall/F1 of the clustering against the folder names, over the faces in a subfolder.</summary>
    private static void Score(CliContext ctx, string inputDir, IReadOnlyList<ClusteredFace> faces)
    {
        var labelled = faces.Select(f => (f.Cluster, Truth: Path.GetRelativePath(inputDir, Path.GetDirectoryName(f.File)!)))
            .Where(x => x.Truth != ".").ToList();
        if (labelled.Count == 0)
        {
            ctx.Console.MarkupLine("[yellow]--score: no faces in subfolders, nothing to score[/]");
            return;
        }
        var s = PairwiseScores.Compute(labelled.Select(x => x.Cluster).ToList(), labelled.Select(x => x.Truth).ToList());
        int people = labelled.Select(x => x.Truth).Distinct().Count();
        var table = new Table().AddColumns("scored faces", "people (folders)", "clusters", "pairwise precision", "recall", "F1");
        table.AddRow(labelled.Count.ToString(), people.ToString(), s.ClusterCount.ToString(), $"{s.Precision:F4}", $"{s.Recall:F4}", $"{s.F1:F4}");
        ctx.Console.Write(table);
    }

    /// <summary>
    /// The image files under <paramref name="root"/>, recursively, in ordinal order; hidden files and folders (a
    /// leading '.') left out. A folder that cannot be listed is reported to <paramref name="onUnreadable"/> and left
    /// out; a folder reached again through a symbolic link is walked once.
    /// </summary>
    private static List<string> ImageFiles(string root, Action<string> onUnreadable)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([root]);
        while (pending.TryPop(out var dir))
        {
            try
            {
                var real = new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(dir);
                if (!seen.Add(real)) continue;
                files.AddRange(Directory.GetFiles(dir).Where(f => ImageExtensions.Contains(Path.GetExtension(f)) && !Path.GetFileName(f).StartsWith('.')));
                foreach (var sub in Directory.GetDirectories(dir))
                    if (!Path.GetFileName(sub).StartsWith('.')) pending.Push(sub);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                onUnreadable($"cannot list the folder {dir}: {e.Message}");
            }
        }
        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
