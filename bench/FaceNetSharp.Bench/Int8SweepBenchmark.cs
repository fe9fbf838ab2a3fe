using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Quantization;
using Onnx;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>int8-sweep</c>: how close int8 vectors stay to float32 (lowest and mean cosine over real faces the calibration
/// never saw) under each quantization choice, from ONE calibration pass: calibration methods (min/max, percentiles,
/// least squared error), and a per-layer sensitivity sweep (each Conv kept in float32 alone, the rest int8).
/// </summary>
/// <remarks>
/// <c>int8-sweep [--model mobilefacenet] [--data ../shared/data/faces] [--per 4] [--layers] [--float CONV,CONV]
/// [--method minmax|percentile|mse] [--jitter N] [--equalize A,B] [--float-activations T,T]
/// [--activations K,K] [--save FILE] [--build FILE] [--ops FILE]</c>. Faces: the first <c>--per</c> photos of each kz-celebs person and
/// of each ORL person (MTCNN's largest face, aligned as the model wants).
/// </remarks>
internal static class Int8SweepBenchmark
{
    public static int Run(string[] args)
    {
        string model = Arg(args, "--model") ?? ModelNames.MobileFaceNet;
        string data = Arg(args, "--data") ?? Path.Combine("..", "shared", "data", "faces");
        int per = int.Parse(Arg(args, "--per") ?? "4", CultureInfo.InvariantCulture);
        int jitter = int.Parse(Arg(args, "--jitter") ?? "0", CultureInfo.InvariantCulture);
        // --float-activations T,T: activation tensors kept in float32 in every variant (OnnxQuantizer.Quantize's floatActivations)
        var baseFloatActivations = (Arg(args, "--float-activations") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var baseFloat = (Arg(args, "--float") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var method = Arg(args, "--method") switch
        {
            null or "percentile" => CalibrationMethod.Percentile,
            "minmax" => CalibrationMethod.MinMax,
            "mse" => CalibrationMethod.Mse,
            var m => throw new ArgumentException($"--method: '{m}' is not minmax, percentile or mse"),
        };
        var store = new ModelStore();
        store.EnsureInstalled([model]);
        var baseCard = store.ReadCard(model)!;
        var info = Embedders.FromCard(baseCard, store.CardPathOf(model));
        var fp32Bytes = File.ReadAllBytes(store.PathOf(model));
        var (fp32, shortcuts) = ShortcutRewriter.Rewrite(ModelProto.Parser.ParseFrom(fp32Bytes));
        if (shortcuts > 0) Console.WriteLine($"{shortcuts} shortcut AveragePool (+ Pad) rewritten as Convs");

        if (Arg(args, "--build") is { } buildPath)
        {
            // the installed quantizer's int8 model, written to PATH with its SHA-256 (to check that a refactoring keeps it byte-identical)
            var buildChips = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
            var (built, _) = Int8Models.Build(fp32Bytes, baseCard, info, buildChips, Int8Models.MethodFor(model));
            File.WriteAllBytes(buildPath, built);
            Console.WriteLine($"{buildPath}: {built.Length} bytes, SHA-256 {FaceNetSharp.Models.Npm.NpmPackage.Sha256(built)}");
            return 0;
        }

        if (Arg(args, "--ops") is { } opsPath)
        {
            // --ops FILE: ONNX Runtime's optimized graph of an int8 file (e.g. one --save wrote), and its nodes that are not QLinear
            var optPath = Path.Combine(Path.GetTempPath(), $"facenet-ops-{Guid.NewGuid():N}.onnx");
            using (var so = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optPath })
            using (new Microsoft.ML.OnnxRuntime.InferenceSession(opsPath, so)) { }
            var opt = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optPath));
            File.Delete(optPath);
            Dump(opt, "ONNX Runtime's optimized graph of " + opsPath);
            foreach (var n in opt.Graph.Node.Where(n => !n.OpType.StartsWith("QLinear", StringComparison.Ordinal)))
                Console.WriteLine($"    {n.OpType,-18} {n.Name,-50} in [{string.Join(", ", n.Input)}] out [{string.Join(", ", n.Output)}]");
            return 0;
        }

        if (args.Contains("--dump"))
        {
            Dump(fp32, "float32 graph");
            var work0 = Directory.CreateTempSubdirectory("facenet-int8-dump").FullName;
            try
            {
                var chips0 = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
                var (bytes, _) = Int8Models.Build(fp32Bytes, baseCard, info, chips0, Int8Models.MethodFor(model));
                Dump(ModelProto.Parser.ParseFrom(bytes), "QDQ graph");
                var path = Path.Combine(work0, "q.onnx");
                var optimized = Path.Combine(work0, "opt.onnx");
                File.WriteAllBytes(path, bytes);
                using (var so = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized })
                using (new Microsoft.ML.OnnxRuntime.InferenceSession(path, so)) { }
                var opt = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized));
                Dump(opt, "ONNX Runtime's optimized int8 graph");
                foreach (var n in opt.Graph.Node.Where(n => !n.OpType.StartsWith("QLinear", StringComparison.Ordinal)))
                    Console.WriteLine($"    {n.OpType,-18} {n.Name,-50} in [{string.Join(", ", n.Input)}] out [{string.Join(", ", n.Output)}]");
            }
            finally
            {
                Directory.Delete(work0, recursive: true);
            }
            return 0;
        }

        string? equalizedPath = null;
        var sw = Stopwatch.StartNew();
        var chips = jitter > 0 ? Int8Models.CalibrationChips(store, info.Template, info.InputSize, jitter: jitter) : Int8Models.CalibrationChips(store, info.Template, info.InputSize);
        var inputs = Int8Models.CalibrationInputs(chips, info);
        if (Arg(args, "--equalize") is { } eq)
        {
            // --equalize DEPTHWISE_ALPHA,DENSE_ALPHA
            var alphas = eq.Split(',').Select(a => double.Parse(a, CultureInfo.InvariantCulture)).ToArray();
            var chainTensors = ChannelEqualizer.Chains(fp32).Select(c => c.Tensor).ToList();
            var channelMax = ChannelEqualizer.ChannelMaxAbs(fp32, chainTensors, inputs, [3, info.InputSize, info.InputSize]);
            (fp32, int n) = ChannelEqualizer.Equalize(fp32, channelMax, alphas[0], alphas[1]);
            Console.WriteLine($"equalized {n} Conv -> PRelu -> Conv chains (alpha depthwise {alphas[0]}, dense {alphas[1]})");
            var eqPath = Path.Combine(Path.GetTempPath(), $"facenet-eq-{Guid.NewGuid():N}.onnx");
            File.WriteAllBytes(eqPath, Google.Protobuf.MessageExtensions.ToByteArray(fp32));
            equalizedPath = eqPath;
        }
        var tensors = OnnxQuantizer.TensorsToCalibrate(fp32);
        var stats = ActivationCalibrator.Statistics(fp32, tensors, inputs, [3, info.InputSize, info.InputSize]);
        Console.WriteLine($"{model}: {chips.Count} calibration faces ({inputs.Count} chips with mirrors), {tensors.Count} tensors measured in {sw.Elapsed.TotalSeconds:F0} s");

        var faces = TestFaces(store, model, data, per);
        using var reference = new OnnxFaceEmbedder(store.PathOf(model), info);
        var fpVectors = reference.Embed(faces);
        if (equalizedPath is not null)
        {
            using var eqModel = new OnnxFaceEmbedder(equalizedPath, info);
            var eqVectors = eqModel.Embed(faces);
            Console.WriteLine(FormattableString.Invariant($"equalized float32 against float32: lowest cosine {fpVectors.Zip(eqVectors, (a, b) => TensorPrimitives.Dot(a, b)).Min():F6}"));
            File.Delete(equalizedPath);
        }
        Console.WriteLine($"{faces.Count} test faces (kz-celebs and ORL, first {per} photos per person)");

        var work = Directory.CreateTempSubdirectory("facenet-int8-sweep").FullName;
        try
        {
            (double Min, double Mean) Score(CalibrationMethod m, double percentile, IReadOnlySet<string> floatConvs, IReadOnlySet<string>? floatActivations = null)
            {
                var ranges = stats.ToDictionary(kv => kv.Key, kv => ActivationCalibrator.Range(kv.Value, m, percentile));
                var q = OnnxQuantizer.Quantize(fp32, ranges, floatConvs, floatActivations ?? (baseFloatActivations.Count > 0 ? baseFloatActivations : null));
                var path = Path.Combine(work, "q.onnx");
                File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(q));
                using var e = new OnnxFaceEmbedder(path, info);
                var v = e.Embed(faces);
                var cos = fpVectors.Zip(v, (a, b) => (double)TensorPrimitives.Dot(a, b)).ToList();
                return (cos.Min(), cos.Average());
            }

            if (Arg(args, "--save") is { } save)
            {
                // --save PATH: the int8 model of --method (with --float-activations, --equalize), scored and written
                var ranges = stats.ToDictionary(kv => kv.Key, kv => ActivationCalibrator.Range(kv.Value, method, ActivationCalibrator.Percentile));
                var q = OnnxQuantizer.Quantize(fp32, ranges, baseFloat, baseFloatActivations.Count > 0 ? baseFloatActivations : null);
                File.WriteAllBytes(save, Google.Protobuf.MessageExtensions.ToByteArray(q));
                var (min, mean) = Score(method, ActivationCalibrator.Percentile, baseFloat);
                Console.WriteLine(FormattableString.Invariant($"{save} ({method}, float activations [{string.Join(',', baseFloatActivations)}]): cosine to fp32 min {min:F4}, mean {mean:F4}"));
                return 0;
            }
            if (Arg(args, "--bias-correct") is { } bc)
            {
                // --bias-correct 0,1,2,3: BiasCorrector with that many iterations, each with --method's ranges
                var ranges = stats.ToDictionary(kv => kv.Key, kv => ActivationCalibrator.Range(kv.Value, method, ActivationCalibrator.Percentile));
                var testInputs = Int8Models.CalibrationInputs(faces, info);
                var convOutputs = OnnxQuantizer.QuantizableConvs(fp32, baseFloat).Select(c => c.Output[0]).ToList();
                var testTarget = BiasCorrector.ChannelMeans(fp32, convOutputs, testInputs, [3, info.InputSize, info.InputSize], optimize: true);
                foreach (var iterations in bc.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
                {
                    var bsw = Stopwatch.StartNew();
                    var (corrected, before, after) = BiasCorrector.Correct(fp32, ranges, inputs, [3, info.InputSize, info.InputSize], iterations, baseFloat);
                    var q = OnnxQuantizer.Quantize(corrected, ranges, baseFloat);
                    var testShift = BiasCorrector.ChannelMeans(q, convOutputs, testInputs, [3, info.InputSize, info.InputSize], optimize: false);
                    double held = convOutputs.Average(o => testShift[o].Zip(testTarget[o], (x, y) => Math.Abs(x - y)).Average());
                    var path = Path.Combine(work, "q.onnx");
                    File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(q));
                    using var e = new OnnxFaceEmbedder(path, info);
                    var v = e.Embed(faces);
                    var cos = fpVectors.Zip(v, (a, b) => (double)TensorPrimitives.Dot(a, b)).ToList();
                    Console.WriteLine(FormattableString.Invariant($"  bias correction x{iterations} ({method}): mean |channel shift| each Conv adds, calibration chips {before:G3} -> {after:G3}; mean |shift| to float32, test faces {held:G3}; cosine to fp32 min {cos.Min():F4}, mean {cos.Average():F4} ({bsw.Elapsed.TotalSeconds:F0} s)"));
                }
                return 0;
            }
            if (Arg(args, "--activations") is { } ks)
            {
                // --activations K1,K2: each activation tensor alone kept in float32 (the rest int8), ranked by the mean
                // cosine it gains; then the K most sensitive kept in float32 together
                var ranges = stats.ToDictionary(kv => kv.Key, kv => ActivationCalibrator.Range(kv.Value, method, ActivationCalibrator.Percentile));
                var candidates = OnnxQuantizer.ActivationTensors(fp32, ranges, baseFloat);
                var baseline = Score(method, ActivationCalibrator.Percentile, baseFloat);
                Console.WriteLine(FormattableString.Invariant($"all int8 ({method}): min {baseline.Min:F4}, mean {baseline.Mean:F4}; {candidates.Count} activation tensors, each alone in float32:"));
                var gains = new List<(string Tensor, double Min, double Mean)>();
                var asw = Stopwatch.StartNew();
                foreach (var t in candidates)
                {
                    var r = Score(method, ActivationCalibrator.Percentile, baseFloat, new HashSet<string>(StringComparer.Ordinal) { t });
                    gains.Add((t, r.Min, r.Mean));
                    Console.WriteLine(FormattableString.Invariant($"  {t,-50} min {r.Min:F4} ({r.Min - baseline.Min:+0.0000;-0.0000}), mean {r.Mean:F4} ({r.Mean - baseline.Mean:+0.00000;-0.00000})"));
                }
                var ranked = gains.OrderByDescending(g => g.Mean).ToList();
                Console.WriteLine($"ranked ({asw.Elapsed.TotalSeconds:F0} s): " + string.Join(",", ranked.Take(64).Select(g => g.Tensor)));
                Console.WriteLine(FormattableString.Invariant($"sum of the gains: all {gains.Sum(g => g.Mean - baseline.Mean):F5}, top 8 {ranked.Take(8).Sum(g => g.Mean - baseline.Mean):F5}, top 16 {ranked.Take(16).Sum(g => g.Mean - baseline.Mean):F5}, top 32 {ranked.Take(32).Sum(g => g.Mean - baseline.Mean):F5}"));
                foreach (var k in ks.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
                {
                    var r = Score(method, ActivationCalibrator.Percentile, baseFloat, ranked.Take(k).Select(g => g.Tensor).ToHashSet(StringComparer.Ordinal));
                    Console.WriteLine(FormattableString.Invariant($"  top {k} activations in float32: min {r.Min:F4}, mean {r.Mean:F4}"));
                }
                return 0;
            }
            if (!args.Contains("--layers"))
            {
                foreach (var (label, m, p) in new[]
                {
                    ("min/max", CalibrationMethod.MinMax, 1.0), ("percentile 99.9", CalibrationMethod.Percentile, 0.999),
                    ("percentile 99.99", CalibrationMethod.Percentile, 0.9999), ("percentile 99.999", CalibrationMethod.Percentile, 0.99999),
                    ("mse", CalibrationMethod.Mse, 1.0),
                })
                {
                    var (min, mean) = Score(m, p, baseFloat);
                    Console.WriteLine(FormattableString.Invariant($"  {label,-18} float [{string.Join(',', baseFloat)}]: cosine to fp32 min {min:F4}, mean {mean:F4}"));
                }
                foreach (var d in new[] { QuantizerDiagnostic.WeightsOnly, QuantizerDiagnostic.ActivationsOnly })
                {
                    OnnxQuantizer.Diagnostic = d;
                    // the PRelu rewrite needs the activations' clamping, so without them PRelu stays as it is
                    OnnxQuantizer.KeepPReluFloat = d == QuantizerDiagnostic.WeightsOnly;
                    var (min, mean) = Score(method, ActivationCalibrator.Percentile, baseFloat);
                    Console.WriteLine(FormattableString.Invariant($"  {d} ({method}): cosine to fp32 min {min:F4}, mean {mean:F4}"));
                }
                OnnxQuantizer.Diagnostic = QuantizerDiagnostic.Full;
                OnnxQuantizer.KeepPReluFloat = false;
                return 0;
            }
            var convs = OnnxQuantizer.QuantizableConvs(fp32);
            var all = Score(method, ActivationCalibrator.Percentile, baseFloat);
            Console.WriteLine(FormattableString.Invariant($"all int8 ({method}): min {all.Min:F4}, mean {all.Mean:F4}; each Conv alone in float32:"));
            var inits = fp32.Graph.Initializer.ToDictionary(t => t.Name);
            var results = new List<(string Conv, double Min, double Mean)>();
            for (int i = 0; i < convs.Count; i++)
            {
                var name = convs[i].Output[0];
                if (baseFloat.Contains(name)) continue;
                var r = Score(method, ActivationCalibrator.Percentile, new HashSet<string>(baseFloat) { name });
                var w = inits[convs[i].Input[1]].Dims;
                long group = convs[i].Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1;
                Console.WriteLine(FormattableString.Invariant($"  {i,3} {name,-40} [{string.Join('x', w)}] group {group}: min {r.Min:F4} ({r.Min - all.Min:+0.0000;-0.0000}), mean {r.Mean:F4} ({r.Mean - all.Mean:+0.0000;-0.0000})"));
                results.Add((name, r.Min, r.Mean));
            }
            Console.WriteLine("most sensitive (mean cosine gained when kept float): " +
                string.Join(", ", results.OrderByDescending(r => r.Mean).Take(8).Select(r => FormattableString.Invariant($"{r.Conv} {r.Mean - all.Mean:+0.0000}"))));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void Dump(ModelProto model, string label) =>
        Console.WriteLine($"{label}: {model.Graph.Node.Count} nodes: " +
            string.Join(", ", model.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));

    private static List<RgbImage> TestFaces(ModelStore store, string model, string data, int per)
    {
        using var fp = FaceRecognizer.Open(model, store.Directory);
        var files = new List<string>();
        foreach (var (set, pattern) in new[] { ("kz-celebs-talgin/our_dataset", "*.png"), ("orl-att-faces/orl_faces", "*.pgm") })
        {
            var dir = Path.Combine(data, set);
            if (!Directory.Exists(dir)) { Console.Error.WriteLine($"skipped {set}: {dir} not found"); continue; }
            files.AddRange(Directory.GetDirectories(dir).Order(StringComparer.Ordinal)
                .SelectMany(d => Directory.GetFiles(d, pattern).Order(StringComparer.Ordinal).Take(per)));
        }
        var chips = new List<RgbImage>();
        foreach (var p in files)
        {
            var image = ImageLoader.Load(p);
            var face = fp.Detect(image).MaxBy(f => f.Box.Area);
            if (face is not null) chips.Add(fp.Align(image, face));
        }
        return chips;
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
