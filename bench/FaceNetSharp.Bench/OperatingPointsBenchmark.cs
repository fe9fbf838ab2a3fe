using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using FaceNetSharp.IO;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>operating-points</c>: measures the built-in embedders' operating points (thresholds for false-accept rates
/// 1e-2 to 1e-5 per comparison) on every labelled set of ../shared/data/faces, and writes
/// <c>operating-points-MODEL.json</c> (embedded into the library by ModelCatalog and written into the model cards)
/// and <c>.md</c> (per-set rates at each point). Pairs are formed within a set only (the sets may share people).
/// </summary>
/// <remarks>
/// Run by a maintainer after anything that changes embeddings (a model, the detector, the alignment):
/// <c>dotnet run -c Release --project bench/FaceNetSharp.Bench -- operating-points [--data ../shared/data/faces]
/// [--models mobilefacenet,dlib] [--out src/FaceNetSharp/Models/Calibration] [--workers 2]</c>.
/// </remarks>
internal static class OperatingPointsBenchmark
{
    /// <summary>The folder-per-person sets, under the data folder: every pair of their embedded images is measured.</summary>
    private static readonly string[] PeopleSets =
    [
        "kz-celebs-talgin/our_dataset",
        "orl-att-faces/orl_faces",
        "face-api-js-images/examples/images",
        "dlib-examples-faces/examples/johns",
        "face_recognition-examples/examples/knn_examples/train",
        "facenet-pytorch-test-images/data/test_images",
    ];

    /// <summary>deepface's labelled pairs of raw photos (master.csv: file_x, file_y, Yes/No).</summary>
    private const string DeepfaceSet = "deepface-tests/tests/unit/dataset";

    /// <summary>The target FARs: four per decade from 1e-2 to 1e-5 (dense enough that log-linear interpolation between them stays close).</summary>
    internal static double[] TargetFars() => [.. Enumerable.Range(0, 13).Select(k => Math.Round(Math.Pow(10, -2 - k / 4.0), 15))];

    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".webp" };

    public static int Run(string[] args)
    {
        string data = Arg(args, "--data") ?? Path.Combine("..", "shared", "data", "faces");
        string outDir = Arg(args, "--out") ?? Path.Combine("src", "FaceNetSharp", "Models", "Calibration");
        var models = (Arg(args, "--models") ?? "mobilefacenet,dlib").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int workers = int.Parse(Arg(args, "--workers") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"data folder not found: {data} (the shared photos, ../shared/data/faces from the repository root)");
            return 2;
        }
        string command = "dotnet run -c Release --project bench/FaceNetSharp.Bench -- operating-points " + string.Join(' ', args);
        Directory.CreateDirectory(outDir);
        foreach (var model in models)
        {
            var sw = Stopwatch.StartNew();
            using var recognizer = FaceRecognizer.Open(model);
            var metric = recognizer.Model.Metric;
            var sets = new List<(OperatingPointData Data, List<float> Genuine, List<float> Impostor)>();
            foreach (var set in PeopleSets)
            {
                var dir = Path.Combine(data, set);
                if (!Directory.Exists(dir)) { Console.Error.WriteLine($"skipped {set}: not found under {data}"); continue; }
                sets.Add(MeasurePeople(recognizer, metric, set, dir, workers));
                Report(model, sets[^1].Data, sw);
            }
            var deepface = Path.Combine(data, DeepfaceSet);
            if (File.Exists(Path.Combine(deepface, "master.csv")))
            {
                sets.Add(MeasurePairs(recognizer, metric, DeepfaceSet, deepface, workers));
                Report(model, sets[^1].Data, sw);
            }
            var genuine = sets.SelectMany(s => s.Genuine).ToList();
            var impostor = sets.SelectMany(s => s.Impostor).ToList();
            var points = new List<OperatingPoint>();
            foreach (var far in TargetFars())
            {
                var c = ThresholdCalibration.FromDistances(genuine, impostor, metric, ThresholdObjective.TargetFalseAcceptRate, far);
                points.Add(new OperatingPoint(far, c.Threshold, c.FalseAcceptRate, c.ImpostorCount, c.FalseRejectRate, c.GenuineCount));
            }
            var result = new OperatingPointSet
            {
                Model = recognizer.Model.Name,
                Metric = EmbeddingMetrics.Name(metric),
                MeasuredAt = DateTimeOffset.UtcNow,
                Command = command,
                Pipeline = "MTCNN with default options, largest face of each image, similarity alignment onto the model's template, " +
                           "embedding L2-normalised; a pair is accepted when its distance is below the threshold",
                Data = [.. sets.Select(s => s.Data)],
                Points = points,
            }.Validated("measured points");
            var json = result.ToJson() + "\n";
            AtomicFile.Write(Path.Combine(outDir, $"operating-points-{recognizer.Model.Name}.json"), s => s.Write(Encoding.UTF8.GetBytes(json)));
            var md = Markdown(result, sets);
            AtomicFile.Write(Path.Combine(outDir, $"operating-points-{recognizer.Model.Name}.md"), s => s.Write(Encoding.UTF8.GetBytes(md)));
            Console.WriteLine(md);
            Console.WriteLine($"{model}: {sw.Elapsed.TotalSeconds:F0} s; wrote {outDir}/operating-points-{recognizer.Model.Name}.json and .md");
        }
        return 0;
    }

    private static void Report(string model, OperatingPointData d, Stopwatch sw) =>
        Console.WriteLine($"{model}: {d.Set}: {d.Embedded} of {d.Images} images embedded, {d.GenuinePairs:N0} same / {d.ImpostorPairs:N0} different pairs ({sw.Elapsed.TotalSeconds:F0} s)");

    private static (OperatingPointData, List<float>, List<float>) MeasurePeople(FaceRecognizer recognizer, EmbeddingMetric metric,
        string set, string dir, int workers)
    {
        var classes = FaceDataset.Load(dir)
            .Select(c => c with { ImagePaths = [.. c.ImagePaths.Where(p => ImageExtensions.Contains(Path.GetExtension(p)))] })
            .Where(c => c.ImagePaths.Count > 0).ToList();
        var paths = classes.SelectMany(c => c.ImagePaths).ToList();
        var person = classes.SelectMany((c, i) => c.ImagePaths.Select(_ => i)).ToList();
        var photos = PhotoEmbedding.EmbedMany(recognizer, paths, FaceInput.Detect, largestOnly: true, workers);
        var rows = new List<(int Person, float[] Vector)>();
        for (int i = 0; i < photos.Count; i++)
            if (photos[i].Largest is { } f) rows.Add((person[i], VectorMath.Normalized(f.Vector, f.Vector.Length, paths[i])));
        var genuine = new List<float>();
        var impostor = new List<float>(rows.Count * (rows.Count - 1) / 2);
        for (int i = 0; i < rows.Count; i++)
            for (int j = i + 1; j < rows.Count; j++)
            {
                float d = VectorMath.DistanceFromDot(TensorPrimitives.Dot(rows[i].Vector, rows[j].Vector), metric);
                (rows[i].Person == rows[j].Person ? genuine : impostor).Add(d);
            }
        return (new OperatingPointData(set, "detect", classes.Count, paths.Count, rows.Count, genuine.Count, impostor.Count), genuine, impostor);
    }

    private static (OperatingPointData, List<float>, List<float>) MeasurePairs(FaceRecognizer recognizer, EmbeddingMetric metric,
        string set, string dir, int workers)
    {
        var pairs = File.ReadLines(Path.Combine(dir, "master.csv")).Skip(1).Select(l => l.Trim().Split(','))
            .Where(f => f.Length == 3).Select(f => (A: Path.Combine(dir, f[0]), B: Path.Combine(dir, f[1]), Same: f[2].Trim() == "Yes")).ToList();
        var files = pairs.SelectMany(p => new[] { p.A, p.B }).Distinct().ToList();
        var photos = PhotoEmbedding.EmbedMany(recognizer, files, FaceInput.Detect, largestOnly: true, workers);
        var vectors = new Dictionary<string, float[]>();
        for (int i = 0; i < files.Count; i++)
            if (photos[i].Largest is { } f) vectors[files[i]] = VectorMath.Normalized(f.Vector, f.Vector.Length, files[i]);
        var genuine = new List<float>();
        var impostor = new List<float>();
        foreach (var (a, b, same) in pairs)
        {
            if (!vectors.TryGetValue(a, out var va) || !vectors.TryGetValue(b, out var vb)) continue;
            (same ? genuine : impostor).Add(VectorMath.DistanceFromDot(TensorPrimitives.Dot(va, vb), metric));
        }
        return (new OperatingPointData(set + "/master.csv", "pairs", 0, files.Count, vectors.Count, genuine.Count, impostor.Count), genuine, impostor);
    }

    private static string Markdown(OperatingPointSet r, List<(OperatingPointData Data, List<float> Genuine, List<float> Impostor)> sets)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# Operating points of {r.Model} ({r.Metric} distance)\n\n");
        sb.Append(c, $"Measured {r.MeasuredAt:yyyy-MM-dd HH:mm} UTC by `{r.Command}`.\n\n{r.Pipeline}.\n\n");
        sb.Append("| set | input | people | images | embedded | same pairs | different pairs |\n|---|---|---:|---:|---:|---:|---:|\n");
        foreach (var d in r.Data) sb.Append(c, $"| {d.Set} | {d.Input} | {d.People} | {d.Images} | {d.Embedded} | {d.GenuinePairs:N0} | {d.ImpostorPairs:N0} |\n");
        sb.Append(c, $"| all | | | | | {r.Points[0].GenuinePairs:N0} | {r.Points[0].ImpostorPairs:N0} |\n\n");
        sb.Append("Pooled: the threshold is the largest whose FAR over all different pairs is at most the target. Then each set's FAR / FRR at it.\n\n");
        sb.Append("| target FAR | threshold | FAR | FRR |");
        foreach (var s in sets) sb.Append(c, $" {s.Data.Set.Split('/')[0]} FAR / FRR |");
        sb.Append("\n|---:|---:|---:|---:|");
        foreach (var _ in sets) sb.Append("---:|");
        sb.Append('\n');
        foreach (var p in r.Points)
        {
            sb.Append(c, $"| {p.TargetFar:0.0##e+00} | {p.Threshold:F4} | {p.MeasuredFar:0.0##e+00} | {p.FalseRejectRate:F4} |");
            foreach (var s in sets)
            {
                string far = s.Impostor.Count == 0 ? "-" : ((double)s.Impostor.Count(d => d < p.Threshold) / s.Impostor.Count).ToString("0.0##e+00", c);
                string frr = s.Genuine.Count == 0 ? "-" : ((double)s.Genuine.Count(d => d >= p.Threshold) / s.Genuine.Count).ToString("F3", c);
                sb.Append(c, $" {far} / {frr} |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
