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

    /// <summary>
    /// Faces enrolled per person in each set's open-set check (<see cref="OpenSetEvaluation"/>, hold-out 0.5, 5 draws,
    /// seed 666, as <c>gallery evaluate</c>'s defaults): 5 where people have at least 6 photos, fewer on the small sets
    /// (face-api.js people have 4 to 6 photos, deepface's people 1 to 8).
    /// </summary>
    private static readonly Dictionary<string, int> OpenSetEnrol = new(StringComparer.Ordinal)
    {
        ["kz-celebs-talgin/our_dataset"] = 5,
        ["orl-att-faces/orl_faces"] = 5,
        ["face-api-js-images/examples/images"] = 3,
        ["dlib-examples-faces/examples/johns"] = 5,
        [DeepfaceSet + "/master.csv"] = 1,
    };

    /// <summary>One measured set: its embedded faces (person indices), its pairs, and each pair's identity pair.</summary>
    private sealed class SetMeasure
    {
        public OperatingPointData Data { get; set; } = null!;
        public List<(int Person, float[] Vector)> Faces { get; set; } = [];
        public List<float> Genuine { get; } = [];
        public List<long> GenuineKey { get; } = [];   // the person (for weighting per person)
        public List<float> Impostor { get; } = [];
        public List<long> ImpostorKey { get; } = [];  // the unordered identity pair (for weighting per identity pair)
        public int IdentityPairs => ImpostorKey.Distinct().Count();
    }

    public static int Run(string[] args)
    {
        string data = Arg(args, "--data") ?? Path.Combine("..", "shared", "data", "faces");
        string outDir = Arg(args, "--out") ?? Path.Combine("src", "FaceNetSharp", "Models", "Calibration");
        string? cache = Arg(args, "--cache");
        var chosen = ParseWeighting(Arg(args, "--weighting") ?? ImpostorWeighting.IdentityPair.ToString());
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
            var sets = new List<SetMeasure>();
            string? modelCache = cache is null ? null : Path.Combine(cache, recognizer.Model.Name);
            foreach (var set in PeopleSets)
            {
                var dir = Path.Combine(data, set);
                if (!Directory.Exists(dir)) { Console.Error.WriteLine($"skipped {set}: not found under {data}"); continue; }
                sets.Add(MeasurePeople(recognizer, metric, set, dir, workers, modelCache));
                Report(model, sets[^1].Data, sw);
            }
            var deepface = Path.Combine(data, DeepfaceSet);
            if (File.Exists(Path.Combine(deepface, "master.csv")))
            {
                sets.Add(MeasurePairs(recognizer, metric, DeepfaceSet, deepface, workers, modelCache));
                Report(model, sets[^1].Data, sw);
            }
            var all = new Dictionary<ImpostorWeighting, OperatingPointSet>();
            foreach (var weighting in Enum.GetValues<ImpostorWeighting>())
                all[weighting] = new OperatingPointSet
                {
                    Model = recognizer.Model.Name,
                    Metric = EmbeddingMetrics.Name(metric),
                    MeasuredAt = DateTimeOffset.UtcNow,
                    Command = command,
                    Pipeline = "MTCNN with default options, largest face of each image, similarity alignment onto the model's template, " +
                               "embedding L2-normalised; a pair is accepted when its distance is below the threshold",
                    Weighting = WeightingName(weighting),
                    Data = [.. sets.Select(s => s.Data)],
                    Points = Points(sets, weighting),
                }.Validated($"measured points ({weighting})");
            var result = all[chosen];
            var json = result.ToJson() + "\n";
            AtomicFile.Write(Path.Combine(outDir, $"operating-points-{recognizer.Model.Name}.json"), s => s.Write(Encoding.UTF8.GetBytes(json)));
            var md = Markdown(result, all, chosen, sets, metric);
            AtomicFile.Write(Path.Combine(outDir, $"operating-points-{recognizer.Model.Name}.md"), s => s.Write(Encoding.UTF8.GetBytes(md)));
            Console.WriteLine(md);
            Console.WriteLine($"{model}: {sw.Elapsed.TotalSeconds:F0} s; wrote {outDir}/operating-points-{recognizer.Model.Name}.json and .md");
        }
        return 0;
    }

    /// <summary>How the different-person pairs count towards a point's FAR (and the same-person pairs towards its FRR).</summary>
    internal enum ImpostorWeighting
    {
        /// <summary>Every pair of photos alike: a set's weight grows with the square of its photos.</summary>
        Pair,
        /// <summary>Every pair of identities alike (a random stranger against a random enrolled person), over all sets; same-person pairs: every person alike.</summary>
        IdentityPair,
        /// <summary>Every set alike.</summary>
        Set,
    }

    private static ImpostorWeighting ParseWeighting(string s) => s.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() switch
    {
        "pair" => ImpostorWeighting.Pair,
        "identitypair" or "identity" => ImpostorWeighting.IdentityPair,
        "set" => ImpostorWeighting.Set,
        _ => throw new ArgumentException($"--weighting must be pair, identity-pair or set; got {s}"),
    };

    private static string WeightingName(ImpostorWeighting w) => w switch
    {
        ImpostorWeighting.Pair => "pair",
        ImpostorWeighting.IdentityPair => "identity-pair",
        _ => "set",
    };

    /// <summary>Each pair's weight under <paramref name="weighting"/>: per set, the pairs' keys (identity pair or person) and the set's size decide it.</summary>
    private static double[] Weights(List<float> distances, List<long> keys, ImpostorWeighting weighting)
    {
        var w = new double[distances.Count];
        switch (weighting)
        {
            case ImpostorWeighting.Pair:
                Array.Fill(w, 1.0);
                break;
            case ImpostorWeighting.Set:
                Array.Fill(w, 1.0 / distances.Count);
                break;
            default:
                var count = keys.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
                for (int i = 0; i < w.Length; i++) w[i] = 1.0 / count[keys[i]];
                break;
        }
        return w;
    }

    /// <summary>
    /// The thresholds for <see cref="TargetFars"/> under a weighting: the largest threshold (halfway between two
    /// consecutive distinct distances, as <see cref="ThresholdCalibration"/>) at which the accepted impostor weight is at
    /// most the target share of all of it.
    /// </summary>
    private static List<OperatingPoint> Points(List<SetMeasure> sets, ImpostorWeighting weighting)
    {
        var (imp, impW) = Flatten(sets, weighting, impostor: true);
        var (gen, genW) = Flatten(sets, weighting, impostor: false);
        double impTotal = impW.Sum(), genTotal = genW.Sum();
        var points = new List<OperatingPoint>();
        foreach (var far in TargetFars())
        {
            double allowed = far * impTotal;
            double cum = 0;
            int k = 0;
            while (k < imp.Length && cum + impW[k] <= allowed * (1 + 1e-12)) { cum += impW[k]; k++; }
            // accept everything before k: halfway between imp[k-1] and imp[k] (a tie at imp[k] is left out entirely)
            float t = k == 0 ? imp[0] : k == imp.Length ? MathF.BitIncrement(imp[^1]) : imp[k - 1] == imp[k] ? imp[k] : (imp[k - 1] + imp[k]) / 2;
            double accepted = 0;
            for (int i = 0; i < imp.Length && imp[i] < t; i++) accepted += impW[i];
            double rejected = 0;
            for (int i = gen.Length - 1; i >= 0 && gen[i] >= t; i--) rejected += genW[i];
            points.Add(new OperatingPoint(far, t, accepted / impTotal, imp.Length, rejected / genTotal, gen.Length));
        }
        return points;
    }

    private static (float[] Distances, double[] Weights) Flatten(List<SetMeasure> sets, ImpostorWeighting weighting, bool impostor)
    {
        var d = new List<float>();
        var w = new List<double>();
        for (int s = 0; s < sets.Count; s++)
        {
            var dist = impostor ? sets[s].Impostor : sets[s].Genuine;
            if (dist.Count == 0) continue;
            d.AddRange(dist);
            w.AddRange(Weights(dist, impostor ? sets[s].ImpostorKey : sets[s].GenuineKey, weighting));
        }
        var da = d.ToArray();
        var wa = w.ToArray();
        Array.Sort(da, wa);
        return (da, wa);
    }

    private static void Report(string model, OperatingPointData d, Stopwatch sw) =>
        Console.WriteLine($"{model}: {d.Set}: {d.Embedded} of {d.Images} images embedded, {d.GenuinePairs:N0} same / {d.ImpostorPairs:N0} different pairs ({sw.Elapsed.TotalSeconds:F0} s)");

    /// <summary>
    /// Embeds <paramref name="paths"/> (largest face), or reads them from <paramref name="cacheDir"/> when it holds this
    /// set's embeddings for exactly these paths (a maintainer's shortcut when re-running the analysis; the cards'
    /// measurement runs without it).
    /// </summary>
    private static float[]?[] EmbedCached(FaceRecognizer recognizer, List<string> paths, string set, int workers, string? cacheDir)
    {
        string? file = cacheDir is null ? null : Path.Combine(cacheDir, set.Replace('/', '_') + ".bin");
        if (file is not null && File.Exists(file))
        {
            using var r = new BinaryReader(File.OpenRead(file));
            int n = r.ReadInt32();
            if (n == paths.Count)
            {
                var cached = new float[]?[n];
                bool same = true;
                for (int i = 0; i < n && same; i++)
                {
                    same = r.ReadString() == paths[i];
                    int dims = r.ReadInt32();
                    if (dims > 0) cached[i] = [.. Enumerable.Range(0, dims).Select(_ => r.ReadSingle())];
                }
                if (same) return cached;
            }
        }
        var photos = PhotoEmbedding.EmbedMany(recognizer, paths, FaceInput.Detect, largestOnly: true, workers);
        var vectors = photos.Select((p, i) => p.Largest is { } f ? VectorMath.Normalized(f.Vector, f.Vector.Length, paths[i]) : null).ToArray();
        if (file is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            AtomicFile.Write(file, s =>
            {
                using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
                w.Write(paths.Count);
                for (int i = 0; i < paths.Count; i++)
                {
                    w.Write(paths[i]);
                    w.Write(vectors[i]?.Length ?? 0);
                    foreach (var x in vectors[i] ?? []) w.Write(x);
                }
            });
        }
        return vectors;
    }

    private static SetMeasure MeasurePeople(FaceRecognizer recognizer, EmbeddingMetric metric, string set, string dir, int workers, string? cache)
    {
        var classes = FaceDataset.Load(dir)
            .Select(c => c with { ImagePaths = [.. c.ImagePaths.Where(p => ImageExtensions.Contains(Path.GetExtension(p)))] })
            .Where(c => c.ImagePaths.Count > 0).ToList();
        var paths = classes.SelectMany(c => c.ImagePaths).ToList();
        var person = classes.SelectMany((c, i) => c.ImagePaths.Select(_ => i)).ToList();
        var vectors = EmbedCached(recognizer, paths, set, workers, cache);
        var rows = new List<(int Person, float[] Vector)>();
        for (int i = 0; i < vectors.Length; i++)
            if (vectors[i] is { } v) rows.Add((person[i], v));
        var m = new SetMeasure { Faces = rows };
        for (int i = 0; i < rows.Count; i++)
            for (int j = i + 1; j < rows.Count; j++)
            {
                float d = VectorMath.DistanceFromDot(TensorPrimitives.Dot(rows[i].Vector, rows[j].Vector), metric);
                int a = rows[i].Person, b = rows[j].Person;
                if (a == b) { m.Genuine.Add(d); m.GenuineKey.Add(a); }
                else { m.Impostor.Add(d); m.ImpostorKey.Add(PairKey(a, b)); }
            }
        m.Data = new OperatingPointData(set, "detect", classes.Count, paths.Count, rows.Count, m.Genuine.Count, m.Impostor.Count);
        return m;
    }

    private static long PairKey(int a, int b) => ((long)Math.Min(a, b) << 32) | (uint)Math.Max(a, b);

    /// <summary>
    /// deepface's labelled pairs. Its people are not named: they are the groups of photos joined by "Yes" pairs (a
    /// photo in no "Yes" pair is a person of its own), which the open-set check and the identity-pair weighting use.
    /// </summary>
    private static SetMeasure MeasurePairs(FaceRecognizer recognizer, EmbeddingMetric metric, string set, string dir, int workers, string? cache)
    {
        var pairs = File.ReadLines(Path.Combine(dir, "master.csv")).Skip(1).Select(l => l.Trim().Split(','))
            .Where(f => f.Length == 3).Select(f => (A: Path.Combine(dir, f[0]), B: Path.Combine(dir, f[1]), Same: f[2].Trim() == "Yes")).ToList();
        var files = pairs.SelectMany(p => new[] { p.A, p.B }).Distinct().ToList();
        var index = files.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => x.i);
        var parent = Enumerable.Range(0, files.Count).ToArray();
        int Find(int x) => parent[x] == x ? x : parent[x] = Find(parent[x]);
        foreach (var (a, b, same) in pairs)
            if (same) parent[Find(index[a])] = Find(index[b]);
        var vectors = EmbedCached(recognizer, files, set, workers, cache);
        var person = files.Select((_, i) => Find(i)).ToArray();
        var m = new SetMeasure();
        foreach (var (a, b, same) in pairs)
        {
            if (vectors[index[a]] is not { } va || vectors[index[b]] is not { } vb) continue;
            float d = VectorMath.DistanceFromDot(TensorPrimitives.Dot(va, vb), metric);
            if (same) { m.Genuine.Add(d); m.GenuineKey.Add(person[index[a]]); }
            else { m.Impostor.Add(d); m.ImpostorKey.Add(PairKey(person[index[a]], person[index[b]])); }
        }
        var faces = files.Select((_, i) => (Person: person[i], Vector: vectors[i])).Where(x => x.Vector is not null).Select(x => (x.Person, x.Vector!)).ToList();
        m.Faces = faces;
        m.Data = new OperatingPointData(set + "/master.csv", "pairs", person.Distinct().Count(), files.Count, faces.Count, m.Genuine.Count, m.Impostor.Count);
        return m;
    }

    private static string Markdown(OperatingPointSet r, Dictionary<ImpostorWeighting, OperatingPointSet> all, ImpostorWeighting chosen,
        List<SetMeasure> sets, EmbeddingMetric metric)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# Operating points of {r.Model} ({r.Metric} distance)\n\n");
        sb.Append(c, $"Measured {r.MeasuredAt:yyyy-MM-dd HH:mm} UTC by `{r.Command}`.\n\n{r.Pipeline}.\n\n");
        sb.Append("| set | input | people | images | embedded | same pairs | different pairs | identity pairs |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in sets)
        {
            var d = s.Data;
            sb.Append(c, $"| {d.Set} | {d.Input} | {d.People} | {d.Images} | {d.Embedded} | {d.GenuinePairs:N0} | {d.ImpostorPairs:N0} | {s.IdentityPairs:N0} |\n");
        }
        sb.Append(c, $"| all | | | | | {r.Points[0].GenuinePairs:N0} | {r.Points[0].ImpostorPairs:N0} | {sets.Sum(s => s.IdentityPairs):N0} |\n\n");
        sb.Append(c, $"The card's points: weighting **{r.Weighting}** ({WeightingText(chosen)}). Every pair is measured and counted; ");
        sb.Append("the weighting decides only how much each counts towards a point's FAR (and FRR). Per-set FAR / FRR are each set's own pairs, unweighted.\n\n");
        foreach (var (weighting, points) in all.OrderBy(kv => kv.Key == chosen ? 0 : 1))
        {
            sb.Append(c, $"## Weighting {points.Weighting}{(weighting == chosen ? " (the card's)" : "")}: {WeightingText(weighting)}\n\n");
            sb.Append("| target FAR | threshold | FAR | FRR |");
            foreach (var s in sets) sb.Append(c, $" {s.Data.Set.Split('/')[0]} FAR / FRR |");
            sb.Append("\n|---:|---:|---:|---:|");
            foreach (var _ in sets) sb.Append("---:|");
            sb.Append('\n');
            foreach (var p in points.Points)
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
            sb.Append('\n');
        }
        sb.Append(OpenSet(all, sets, metric));
        return sb.ToString();
    }

    private static string WeightingText(ImpostorWeighting w) => w switch
    {
        ImpostorWeighting.Pair => "every different-person pair of photos counts alike, so a set weighs as the square of its photos",
        ImpostorWeighting.IdentityPair => "every pair of identities counts alike (a random stranger against a random enrolled person), its photo pairs sharing its weight; same-person pairs: every person alike",
        _ => "every set counts alike, its pairs sharing its weight",
    };

    /// <summary>
    /// The open-set check: on each set, galleries drawn as <c>gallery evaluate</c> draws them (hold-out 0.5, 5 draws,
    /// seed 666), identified at FPIR 1% with each weighting's points and N = enrolled faces or N = enrolled people.
    /// </summary>
    private static string OpenSet(Dictionary<ImpostorWeighting, OperatingPointSet> all, List<SetMeasure> sets, EmbeddingMetric metric)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("## Open-set check: FPIR 1% asked, observed FPIR / FNIR\n\n");
        sb.Append("Galleries drawn as `facenet gallery evaluate` draws them (hold-out 0.5, 5 draws, seed 666, `enrol` photos per enrolled person); ");
        sb.Append("each draw's threshold is the points' threshold for FAR = 1% / N, N = the draw's enrolled faces or enrolled people. ");
        sb.Append("`best` is the largest threshold with observed FPIR <= 1% on the set itself (what `gallery evaluate` suggests) and its FNIR: the most the set allows.\n\n");
        sb.Append("| set | enrol | enrolled people x faces | strangers' / enrolled searches | best: threshold, FNIR |");
        var columns = all.Keys.SelectMany(w => new[] { (w, People: false), (w, People: true) }).ToList();
        foreach (var (w, people) in columns) sb.Append(c, $" {WeightingName(w)}, N = {(people ? "people" : "faces")}: threshold, FPIR, FNIR |");
        sb.Append("\n|---|---:|---|---|---|");
        foreach (var _ in columns) sb.Append("---|");
        sb.Append('\n');
        foreach (var s in sets)
        {
            if (!OpenSetEnrol.TryGetValue(s.Data.Set, out int enrol)) continue;
            var faces = s.Faces.Select(f => (f.Person.ToString(c), f.Vector)).ToList();
            IReadOnlyList<OpenSetDraw> draws;
            try { draws = OpenSetEvaluation.Run(faces, metric, new OpenSetOptions { Enrol = enrol }); }
            catch (ArgumentException e) { sb.Append(c, $"| {s.Data.Set.Split('/')[0]} | {enrol} | {e.Message} |\n"); continue; }
            var any = OpenSetEvaluation.At(draws, 1f);
            var best = OpenSetEvaluation.Suggest(draws, 0.01);
            string bestText = best is { } b ? $"{b:F3}, {Fraction(OpenSetEvaluation.At(draws, b).Misses, any.MatedSearches)}" : "-";
            sb.Append(c, $"| {s.Data.Set.Split('/')[0]} | {enrol} | {draws[0].EnrolledPeople} x {enrol} | {any.NonMatedSearches} / {any.MatedSearches} | {bestText} |");
            foreach (var (w, people) in columns)
            {
                float ThresholdOf(OpenSetDraw d) => all[w].ForIdentification(0.01, people ? d.EnrolledPeople : d.EnrolledFaces).Threshold;
                var rates = OpenSetEvaluation.At(draws, ThresholdOf, ThresholdOf(draws[0]));
                sb.Append(c, $" {rates.Threshold:F3}, {Fraction(rates.FalsePositives, rates.NonMatedSearches)}, {Fraction(rates.Misses, rates.MatedSearches)} |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Fraction(int count, int of) =>
        of == 0 ? "-" : $"{count}/{of} ({((double)count / of).ToString("0.0#%", CultureInfo.InvariantCulture)})";

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
