using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Evaluation;
using FaceNetSharp.Imaging;
using FaceNetSharp.IO;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>int8</c>: the int8 embedders against float32 in one run. For each model and calibration method: the graph ONNX
/// Runtime actually runs (how many Conv became QLinearConv), faces/s at batch 1 and 16 (ratios first), and the
/// verification figures (10-fold accuracy, AUC) of float32 and int8 on the same detections and chips of the labelled
/// sets of ../shared/data/faces, with the lowest cosine between a face's float32 and int8 vectors.
/// With <c>--write DIR</c> the default method's figures are written to <c>DIR/int8-loss-MODEL.json</c>, which the
/// library embeds into the int8 cards.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project bench/FaceNetSharp.Bench -- int8 [--data ../shared/data/faces]
/// [--models mobilefacenet,dlib-resnet] [--methods minmax,percentile] [--faces 256] [--no-accuracy] [--threads N] [--rounds 3] [--split K,K] [--profile] [--compare INT8.onnx]
/// [--write src/FaceNetSharp.Models/Quantization]</c>
/// </remarks>
internal static class Int8Benchmark
{
    public static int Run(string[] args)
    {
        string data = Arg(args, "--data") ?? Path.Combine("..", "shared", "data", "faces");
        var models = (Arg(args, "--models") ?? "mobilefacenet,dlib-resnet").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var methods = (Arg(args, "--methods") ?? "minmax,percentile").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(m => m == "minmax" ? CalibrationMethod.MinMax : m == "percentile" ? CalibrationMethod.Percentile
                : throw new ArgumentException($"--methods: '{m}' is not minmax or percentile")).ToList();
        int faces = int.Parse(Arg(args, "--faces") ?? "256", CultureInfo.InvariantCulture);
        bool accuracy = !args.Contains("--no-accuracy");
        OnnxQuantizer.FloatTailConvs = int.Parse(Arg(args, "--float-tail") ?? "0", CultureInfo.InvariantCulture);
        bool quick = args.Contains("--quick");
        OnnxQuantizer.KeepPReluFloat = args.Contains("--float-prelu");
        string? write = Arg(args, "--write");
        int? threads = Arg(args, "--threads") is { } tArg ? int.Parse(tArg, CultureInfo.InvariantCulture) : null;
        int rounds = int.Parse(Arg(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        string command = "dotnet run -c Release --project bench/FaceNetSharp.Bench -- int8 " + string.Join(' ', args);
        var c = CultureInfo.InvariantCulture;

        var store = new ModelStore();
        store.EnsureInstalled();
        var work = Directory.CreateTempSubdirectory("facenet-int8").FullName;
        Console.WriteLine($"int8 benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime CPU, " +
                          $"VNNI {(File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Contains("avx512_vnni") ? "yes" : "no")}");
        var sets = accuracy ? LoadSets(data) : [];
        Dictionary<string, DetectedFace?>? detections = null;
        try
        {
            foreach (var model in models)
            {
                var baseCard = store.ReadCard(model) ?? throw new InvalidOperationException($"{model} not installed");
                var info = Embedders.FromCard(baseCard, store.CardPathOf(model));
                var chips = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
                var fp32Bytes = File.ReadAllBytes(store.PathOf(model));
                var variants = new List<(string Label, string Path, CalibrationMethod? Method, ModelCard? Card)> { ("fp32", store.PathOf(model), null, null) };
                if (args.Contains("--profile")) Console.WriteLine($"{model} fp32 time by op, batch 16: {Profile(store.PathOf(model), info, chips, work)}");
                foreach (var method in methods)
                {
                    var sw = Stopwatch.StartNew();
                    var (bytes, card) = Int8Models.Build(fp32Bytes, baseCard, info, chips, method);
                    var label = method == CalibrationMethod.MinMax ? "int8 minmax" : "int8 pctl";
                    var path = Path.Combine(work, $"{model}-{method}.onnx".ToLowerInvariant());
                    File.WriteAllBytes(path, bytes);
                    File.WriteAllBytes(Path.ChangeExtension(path, ".card.json"), card.ToJsonBytes());
                    Console.WriteLine($"{model} {label}: quantized {card.Quantization!.QuantizedConvs} Conv, calibrated on {card.Quantization.CalibrationChips} chips " +
                                      $"({chips.Count} faces + mirrors) in {sw.Elapsed.TotalSeconds:F1} s; {bytes.Length / 1024} KiB (fp32 {fp32Bytes.Length / 1024} KiB)");
                    Console.WriteLine($"  ONNX Runtime's optimized graph: {OptimizedOps(path, work)}");
                    if (args.Contains("--profile")) Console.WriteLine($"  time by op, batch 16: {Profile(path, info, chips, work)}");
                    variants.Add((label, path, method, card));
                }

                // --compare PATH[,PATH]: int8 models made before (an older quantizer version's, or int8-sweep --save's variants), timed and measured beside
                foreach (var compare in (Arg(args, "--compare") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                    variants.Add(("int8 " + Path.GetFileNameWithoutExtension(compare), compare, null, null));

                // speed: same chips, same process, ratios first; the variants' rounds interleaved, so that a change in
                // the machine's load falls on all of them; process CPU time per face beside the wall time (with
                // --threads 1, where ONNX Runtime has no spinning pool threads, it is the work per face, which other
                // processes on the cores change little)
                var input = Enumerable.Range(0, faces).Select(i => chips[i % chips.Count]).ToList();
                var speed = new Dictionary<(string, int), double>();
                var cpu = new Dictionary<(string, int), double>();
                // each variant as the library runs it by default (int8: each batch in runs of 4 chips, one per core at a
                // time, each on one thread; float32: one run on every core); --split K[,K] adds each one again in runs of
                // at most K chips (EmbedderOptions.SubBatchSize; 0: one run per batch on every core)
                var timed = variants.Select(v => (v.Label, v.Path, Precision: v.Label == "fp32" ? EmbeddingPrecision.Float32 : EmbeddingPrecision.Int8, SubBatches: (int?)null)).ToList();
                foreach (var split in (Arg(args, "--split") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                    foreach (var v in timed.Where(v => v.SubBatches is null).ToList())
                        timed.Add(($"{v.Label} split {split}", v.Path, v.Precision, int.Parse(split, CultureInfo.InvariantCulture)));
                foreach (var batch in new[] { 1, 16 })
                {
                    var embedders = timed.Select(v => new OnnxFaceEmbedder(v.Path, info, new EmbedderOptions
                    {
                        BatchSize = batch,
                        Precision = v.Precision,
                        SubBatchSize = v.SubBatches,
                        Inference = threads is { } t ? new InferenceOptions { IntraOpThreads = t } : new InferenceOptions(),
                    })).ToList();
                    try
                    {
                        foreach (var e in embedders) e.Embed(input.Take(batch * 2).ToList());
                        for (int round = 0; round < rounds; round++)
                            for (int j = 0; j < timed.Count; j++)
                            {
                                // each round starts with the next variant: none is always timed right after another's
                                // run (float32's 2-thread run left the int8 run after it slower in some rounds)
                                int k = (j + round) % timed.Count;
                                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                                var sw = Stopwatch.StartNew();
                                embedders[k].Embed(input);
                                double wall = faces / sw.Elapsed.TotalSeconds, ms = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / faces;
                                speed[(timed[k].Label, batch)] = Math.Max(speed.GetValueOrDefault((timed[k].Label, batch)), wall);
                                cpu[(timed[k].Label, batch)] = Math.Min(cpu.GetValueOrDefault((timed[k].Label, batch), double.MaxValue), ms);
                            }
                    }
                    finally
                    {
                        foreach (var e in embedders) e.Dispose();
                    }
                }
                Console.WriteLine();
                Console.WriteLine($"{model}: faces/s, best of {rounds} x {faces} faces (rounds interleaved), {(threads is { } th ? $"{th} intra-op thread(s)" : "default threads")}; CPU-ms per face, least of the rounds");
                Console.WriteLine("| variant | batch 1 ratio | batch 16 ratio | batch 1 faces/s | batch 16 faces/s | CPU ratio batch 1 | batch 16 | CPU-ms/face batch 1 | batch 16 |");
                Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var v in timed)
                    Console.WriteLine(string.Format(c, "| {0} | {1:F2}x | {2:F2}x | {3:F0} | {4:F0} | {5:F2}x | {6:F2}x | {7:F2} | {8:F2} |", v.Label,
                        speed[(v.Label, 1)] / speed[("fp32", 1)], speed[(v.Label, 16)] / speed[("fp32", 16)], speed[(v.Label, 1)], speed[(v.Label, 16)],
                        cpu[("fp32", 1)] / cpu[(v.Label, 1)], cpu[("fp32", 16)] / cpu[(v.Label, 16)], cpu[(v.Label, 1)], cpu[(v.Label, 16)]));
                Console.WriteLine();

                if (quick)
                {
                    // lowest and mean cosine to float32 over the first 4 photos of each kz-celebs person
                    var kz = Path.Combine(data, "kz-celebs-talgin", "our_dataset");
                    using var fp = FaceRecognizer.Open(model, store.Directory);
                    var qchips = Directory.GetDirectories(kz).Order(StringComparer.Ordinal).SelectMany(d => Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).Take(4))
                        .Select(p => { var im = ImageLoader.Load(p); var f = fp.Detect(im).MaxBy(x => x.Box.Area); return f is null ? null : fp.Align(im, f); })
                        .Where(x => x is not null).Select(x => x!).ToList();
                    var reference = fp.EmbedAligned(qchips);
                    foreach (var v in variants.Skip(1))
                    {
                        using var e = new OnnxFaceEmbedder(v.Path, info);
                        var q = e.Embed(qchips);
                        var cs = reference.Zip(q, (x, y) => (double)TensorPrimitives.Dot(x, y)).ToList();
                        Console.WriteLine($"{model} {v.Label} float tail {OnnxQuantizer.FloatTailConvs}: cosine to fp32 over {qchips.Count} kz faces: min {cs.Min():F4}, mean {cs.Average():F4}");
                    }
                    continue;
                }
                if (sets.Count == 0) continue;
                detections ??= Detect(store, sets);
                var aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = info.Template, ImageSize = info.InputSize });
                var vectors = variants.ToDictionary(v => v.Label, _ => new Dictionary<string, float[]>());
                var paths = detections.Where(kv => kv.Value is not null).Select(kv => kv.Key).ToList();
                foreach (var v in variants)
                {
                    // each precision's default run path (int8: batches split in runs of 4 chips, one per core at a time)
                    using var e = new OnnxFaceEmbedder(v.Path, info, new EmbedderOptions { Precision = v.Label == "fp32" ? EmbeddingPrecision.Float32 : EmbeddingPrecision.Int8 });
                    for (int start = 0; start < paths.Count; start += 64)
                    {
                        var part = paths.Skip(start).Take(64).ToList();
                        var aligned = part.Select(p => aligner.Align(ImageLoader.Load(p), detections[p]!)).ToList();
                        var vs = e.Embed(aligned);
                        for (int i = 0; i < part.Count; i++) vectors[v.Label][part[i]] = vs[i];
                    }
                }
                var reports = new Dictionary<string, List<Int8LossSet>>();
                Console.WriteLine($"{model}: verification, 10-fold (facenet's protocol, squared euclidean on unit vectors)");
                Console.WriteLine("| set | pairs same/diff | variant | accuracy | loss (pt) | AUC | AUC diff | min cos to fp32 | accuracy SE (pt) |");
                Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|---:|");
                foreach (var set in sets)
                {
                    var pairs = set.Pairs.Where(p => vectors["fp32"].ContainsKey(p.A) && vectors["fp32"].ContainsKey(p.B)).ToList();
                    var same = pairs.Select(p => p.Same).ToList();
                    VerificationReport? fp32 = null;
                    foreach (var v in variants)
                    {
                        var vs = vectors[v.Label];
                        var r = LfwEvaluation.Evaluate(pairs.Select(p => vs[p.A]).ToList(), pairs.Select(p => vs[p.B]).ToList(), same);
                        fp32 ??= r;
                        double minCos = paths.Where(p => set.Files.Contains(p)).Min(p => (double)TensorPrimitives.Dot(vs[p], vectors["fp32"][p]));
                        double se = Math.Sqrt(fp32.Accuracy * (1 - fp32.Accuracy) / pairs.Count) * 100;
                        Console.WriteLine(string.Format(c, "| {0} | {1}/{2} | {3} | {4:F2} % | {5:+0.00;-0.00;0.00} | {6:F4} | {7:+0.0000;-0.0000;0.0000} | {8:F4} | {9:F2} |",
                            set.Name, same.Count(s => s), same.Count(s => !s), v.Label, r.Accuracy * 100, (fp32.Accuracy - r.Accuracy) * 100,
                            r.Auc, r.Auc - fp32.Auc, minCos, se));
                        if (v.Method is { } m)
                        {
                            if (!reports.TryGetValue(v.Label, out var list)) reports[v.Label] = list = [];
                            list.Add(new Int8LossSet(set.Name, same.Count(s => s), same.Count(s => !s), Math.Round(fp32.Accuracy, 6), Math.Round(r.Accuracy, 6),
                                Math.Round(fp32.Auc, 6), Math.Round(r.Auc, 6), Math.Round(minCos, 6)));
                        }
                    }
                }
                Console.WriteLine();
                if (write is not null)
                {
                    var chosen = variants.FirstOrDefault(v => v.Method == Int8Models.MethodFor(model));
                    if (chosen.Card is null) { Console.Error.WriteLine($"--write: {model}'s method {Int8Models.MethodFor(model)} was not measured"); continue; }
                    var report = new Int8LossReport(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", c), command,
                        chosen.Card.Quantization!.CalibrationMethod, reports[chosen.Label]);
                    var json = JsonSerializer.Serialize(report, ModelCard.Json) + "\n";
                    Directory.CreateDirectory(write);
                    AtomicFile.Write(Path.Combine(write, $"int8-loss-{model}.json"), s => s.Write(Encoding.UTF8.GetBytes(json)));
                    Console.WriteLine($"wrote {Path.Combine(write, $"int8-loss-{model}.json")}");
                }
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Op counts of the graph ONNX Runtime runs after its optimisations (QDQ fusion), from SessionOptions.OptimizedModelFilePath.</summary>
    private static string OptimizedOps(string path, string work)
    {
        var optimized = Path.Combine(work, "optimized-" + Path.GetFileName(path));
        using (var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized })
        using (new InferenceSession(path, so)) { }
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized));
        return string.Join(", ", model.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
    }

    /// <summary>ONNX Runtime's own profile of 8 runs at batch 16: total time by op type, largest first.</summary>
    /// <summary>
    /// ONNX Runtime's profile of 8 runs of a batch of 16 chips, with every core and with 1 intra-op thread (the two
    /// sessions' runs alternated): kernel time by op with every core, and how much each op and the nodes that lose the
    /// most (time with N threads minus time with 1 / N) gain from the threads.
    /// </summary>
    private static string Profile(string path, EmbedderInfo info, IReadOnlyList<RgbImage> chips, string work)
    {
        int s = info.InputSize, n = Environment.ProcessorCount;
        var input = new float[16 * 3 * s * s];
        for (int k = 0; k < 16; k++) OnnxFaceEmbedder.ToChw(chips[k % chips.Count], info.Mean, info.Scale, false, input.AsSpan(k * 3 * s * s, 3 * s * s));
        var sessions = new[] { n, 1 }.Select(t =>
        {
            using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = t, InterOpNumThreads = 1 };
            so.EnableProfiling = true;
            so.ProfileOutputPathPrefix = Path.Combine(work, $"profile-{t}");
            return new InferenceSession(path, so);
        }).ToList();
        var files = new List<string>();
        try
        {
            using var value = OrtValue.CreateTensorValueFromMemory(input, [16, 3, s, s]);
            for (int i = 0; i < 8; i++)
                foreach (var session in sessions)
                    session.Run(new RunOptions(), [session.InputMetadata.Keys.Single()], [value], [session.OutputMetadata.Keys.First()]).Dispose();
            files.AddRange(sessions.Select(x => x.EndProfiling()));
        }
        finally
        {
            foreach (var x in sessions) x.Dispose();
        }
        var (many, one) = (Nodes(files[0]), Nodes(files[1]));
        double Total(Dictionary<string, (string Op, string Shape, long Us)> d) => d.Values.Sum(v => v.Us) / 8000.0;
        var byOp = many.Values.GroupBy(v => v.Op).Select(g => (Op: g.Key, Us: g.Sum(v => v.Us), One: one.Values.Where(v => v.Op == g.Key).Sum(v => v.Us)))
            .OrderByDescending(x => x.Us).ToList();
        long total = byOp.Sum(x => x.Us);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Total(many):F0} ms/run: ").AppendJoin(", ", byOp.Take(8).Select(x => $"{x.Op} {100.0 * x.Us / total:F0}%"));
        sb.Append(CultureInfo.InvariantCulture, $"\n    1 -> {n} threads: {Total(one):F0} -> {Total(many):F0} ms/run ({Total(one) / Total(many):F2}x); by op: ")
            .AppendJoin(", ", byOp.Take(5).Select(x => $"{x.Op} {(double)x.One / Math.Max(1, x.Us):F2}x"));
        sb.Append("\n    nodes losing most to the split (ms/run lost against a perfect split, speed-up, output shape): ")
            .AppendJoin("; ", many.Where(kv => one.ContainsKey(kv.Key)).Select(kv => (kv.Key, kv.Value, One: one[kv.Key].Us))
                .OrderByDescending(x => x.Value.Us - (double)x.One / n).Take(6)
                .Select(x => $"{x.Value.Op} {(x.Value.Us - (double)x.One / n) / 8000:F1} ms {(double)x.One / Math.Max(1, x.Value.Us):F2}x {x.Value.Shape}"));
        return sb.ToString();

        // kernel time per node over the 8 runs (the first run's included: both sessions pay it), with its output shape
        static Dictionary<string, (string Op, string Shape, long Us)> Nodes(string file)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var nodes = new Dictionary<string, (string Op, string Shape, long Us)>();
            foreach (var e in doc.RootElement.EnumerateArray())
                if (e.TryGetProperty("cat", out var cat) && cat.GetString() == "Node" && e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var op)
                    && e.GetProperty("name").GetString() is { } name && name.EndsWith("_kernel_time", StringComparison.Ordinal))
                {
                    string shape = a.TryGetProperty("output_type_shape", out var sh) ? string.Concat(sh.GetRawText().Where(ch => ch is not ('"' or ' ' or '{' or '}'))) : "";
                    var prev = nodes.GetValueOrDefault(name);
                    nodes[name] = (op.GetString()!, shape, prev.Us + e.GetProperty("dur").GetInt64());
                }
            return nodes;
        }
    }

    private sealed record PairSet(string Name, List<(string A, string B, bool Same)> Pairs, HashSet<string> Files);

    /// <summary>kz-celebs and ORL (every same pair of the first photos of each person and as many different pairs, seeded), deepface's master.csv.</summary>
    private static List<PairSet> LoadSets(string data)
    {
        var sets = new List<PairSet>();
        // kz-celebs' pairs.txt lists same-person pairs only, so both people sets are paired here the same way
        People("kz-celebs-talgin/our_dataset", "*.png", 20);
        People("orl-att-faces/orl_faces", "*.pgm", 10);

        var deepface = Path.Combine(data, "deepface-tests", "tests", "unit", "dataset");
        if (File.Exists(Path.Combine(deepface, "master.csv")))
        {
            var pairs = File.ReadLines(Path.Combine(deepface, "master.csv")).Skip(1).Select(l => l.Trim().Split(','))
                .Where(f => f.Length == 3).Select(f => (Path.Combine(deepface, f[0]), Path.Combine(deepface, f[1]), f[2].Trim() == "Yes")).ToList();
            // shuffled (seed 1): the file lists its 38 same pairs first, which would leave KFold's later folds without any
            var rng = new Random(1);
            sets.Add(Make("deepface master.csv (shuffled, seed 1)", [.. pairs.OrderBy(_ => rng.Next())]));
        }
        else Console.Error.WriteLine($"skipped deepface: {deepface}/master.csv not found");
        return sets;

        // the first `per` photos of each person: every same pair, and as many different pairs drawn at random (seed 1),
        // interleaved so that KFold's contiguous folds each hold both kinds
        void People(string set, string pattern, int per)
        {
            var dir = Path.Combine(data, set);
            if (!Directory.Exists(dir)) { Console.Error.WriteLine($"skipped {set}: {dir} not found"); return; }
            var people = Directory.GetDirectories(dir).Order(StringComparer.Ordinal)
                .Select(d => Directory.GetFiles(d, pattern).Order(StringComparer.Ordinal).Take(per).ToList()).Where(f => f.Count > 1).ToList();
            var same = new List<(string, string, bool)>();
            foreach (var f in people)
                for (int i = 0; i < f.Count; i++)
                    for (int j = i + 1; j < f.Count; j++) same.Add((f[i], f[j], true));
            var rng = new Random(1);
            var different = new List<(string, string, bool)>();
            var seen = new HashSet<(string, string)>();
            while (different.Count < same.Count)
            {
                int a = rng.Next(people.Count), b = rng.Next(people.Count);
                if (a == b) continue;
                var pa = people[a][rng.Next(people[a].Count)];
                var pb = people[b][rng.Next(people[b].Count)];
                if (seen.Add((pa, pb))) different.Add((pa, pb, false));
            }
            sets.Add(Make($"{set.Split('/')[0]} (first {per} photos of {people.Count} people: every same pair, as many random different)",
                [.. same.Zip(different).SelectMany(t => new[] { t.First, t.Second })]));
        }

        static PairSet Make(string name, List<(string, string, bool)> pairs) =>
            new(name, pairs, [.. pairs.SelectMany(p => new[] { p.Item1, p.Item2 })]);
    }

    /// <summary>The largest face of every image of the sets (MTCNN, default options), shared by every model and variant.</summary>
    private static Dictionary<string, DetectedFace?> Detect(ModelStore store, List<PairSet> sets)
    {
        using var detector = MtcnnDetector.FromStore(store);
        var files = sets.SelectMany(s => s.Files).Distinct().ToList();
        var result = new Dictionary<string, DetectedFace?>();
        var sw = Stopwatch.StartNew();
        foreach (var f in files)
        {
            try
            {
                var faces = detector.Detect(ImageLoader.Load(f));
                result[f] = faces.Count == 0 ? null : faces.MaxBy(x => x.Box.Area);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ImageLoadException)
            {
                result[f] = null;
            }
        }
        Console.WriteLine($"detected {result.Count(kv => kv.Value is not null)} of {files.Count} images in {sw.Elapsed.TotalSeconds:F0} s");
        return result;
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
