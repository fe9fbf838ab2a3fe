using System.Numerics.Tensors;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// dlib ResNet's down-sampling shortcuts (AveragePool 2x2 + channel Pad) rewritten as 2x2 stride-2 Convs, so that its
/// int8 graph runs them in int8; and the bias correction of the int8 MobileFaceNet.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class Int8ShortcutTests
{
    private readonly InstalledModelsFixture models;

    public Int8ShortcutTests(InstalledModelsFixture models) => this.models = models;

    [SkippableFact]
    public void Rewriting_dlib_shortcuts_as_convs_keeps_its_float_vectors()
    {
        var store = models.Require();
        var card = store.ReadCard(ModelNames.DlibResNet)!;
        var info = Embedders.FromCard(card, store.CardPathOf(ModelNames.DlibResNet));
        var fp32 = ModelProto.Parser.ParseFrom(File.ReadAllBytes(store.PathOf(ModelNames.DlibResNet)));
        var (rewritten, n) = ShortcutRewriter.Rewrite(fp32);
        Assert.Equal(4, n);
        Assert.DoesNotContain(rewritten.Graph.Node, x => x.OpType == "AveragePool");
        // the two Pads left are the main path's zero row and column of the blocks whose input side is even
        Assert.Equal(2, rewritten.Graph.Node.Count(x => x.OpType == "Pad"));
        var chips = KzCelebsChips.Aligned(store.Directory, "dlib", people: 8);
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "rewritten.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(rewritten));
        using var a = new OnnxFaceEmbedder(store.PathOf(ModelNames.DlibResNet), info);
        using var b = new OnnxFaceEmbedder(path, info);
        var va = a.Embed(chips);
        var vb = b.Embed(chips);
        for (int i = 0; i < chips.Count; i++)
        {
            float cos = TensorPrimitives.Dot(va[i], vb[i]) / (TensorPrimitives.Norm(va[i]) * TensorPrimitives.Norm(vb[i]));
            Assert.True(cos > 0.999999f, $"face {i}: cosine {cos}");
            Assert.True(TensorPrimitives.Distance(va[i], vb[i]) < 1e-4f * TensorPrimitives.Norm(va[i]), $"face {i}: distance {TensorPrimitives.Distance(va[i], vb[i])}");
        }
    }

    [SkippableFact]
    public void The_int8_dlib_graph_runs_its_shortcuts_and_adds_in_int8()
    {
        var store = models.Require();
        var card = store.ReadCard(ModelNames.DlibResNet)!;
        var info = Embedders.FromCard(card, store.CardPathOf(ModelNames.DlibResNet));
        var chips = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
        var (bytes, int8Card) = Int8Models.Build(File.ReadAllBytes(store.PathOf(ModelNames.DlibResNet)), card, info, chips, Int8Models.MethodFor(ModelNames.DlibResNet));
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "q.onnx");
        var optimized = Path.Combine(dir.Path, "opt.onnx");
        File.WriteAllBytes(path, bytes);
        using (var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized })
        using (new InferenceSession(path, so)) { }
        var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node.GroupBy(x => x.OpType).ToDictionary(g => g.Key, g => g.Count());
        string all = string.Join(", ", ops.Select(kv => $"{kv.Key} {kv.Value}"));
        // before the rewrite (quantizer version 2): 29 QLinearConv, 10 QLinearAdd, 4 float Add, 4 AveragePool, 23 Transpose
        Assert.Equal(33, ops.GetValueOrDefault("QLinearConv"));
        Assert.Equal(14, ops.GetValueOrDefault("QLinearAdd"));
        Assert.False(ops.ContainsKey("AveragePool") || ops.ContainsKey("Add"), all);
        // the input's, and two around the last block's float Pad (NCHW, before the GlobalAveragePool; 2x2 pixels)
        Assert.True(ops.GetValueOrDefault("Transpose") <= 3, all);
        Assert.Contains("shortcut", int8Card.Quantization!.Format);
    }
    [SkippableFact]
    public void Bias_correction_removes_the_channel_shifts_the_quantized_MobileFaceNet_adds()
    {
        var store = models.Require();
        var card = store.ReadCard(ModelNames.MobileFaceNet)!;
        var info = Embedders.FromCard(card, store.CardPathOf(ModelNames.MobileFaceNet));
        var fp32 = ModelProto.Parser.ParseFrom(File.ReadAllBytes(store.PathOf(ModelNames.MobileFaceNet)));
        long[] shape = [3, info.InputSize, info.InputSize];
        // calibration: the first photo of 8 kz-celebs people; held out: the second photo of the same people
        using var r = FaceRecognizer.Open("mobilefacenet", store.Directory);
        var people = Directory.GetDirectories(TestPaths.Shared("faces", "kz-celebs-talgin", "our_dataset")).Order(StringComparer.Ordinal).Take(8).ToList();
        List<float[]> Inputs(int photo) => Int8Models.CalibrationInputs([.. people.Select(d => Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).ElementAt(photo))
            .Select(p => { var im = ImageLoader.Load(p); return r.Align(im, r.Detect(im).MaxBy(f => f.Box.Area)!); })], info);
        var calibration = Inputs(0);
        var heldOut = Inputs(1);
        var chains = ChannelEqualizer.Chains(fp32);
        (fp32, _) = ChannelEqualizer.Equalize(fp32, ChannelEqualizer.ChannelMaxAbs(fp32, [.. chains.Select(c => c.Tensor)], calibration, shape), Int8Models.DepthwiseAlpha, Int8Models.DenseAlpha);
        var ranges = ActivationCalibrator.Measure(fp32, OnnxQuantizer.TensorsToCalibrate(fp32), calibration, shape, CalibrationMethod.MinMax);
        var (corrected, before, after) = BiasCorrector.Correct(fp32, ranges, calibration, shape, iterations: 1);
        // measured (bench int8-sweep --bias-correct 1, 44 sample-photo chips, 2026-11-30): 0.0192 -> 0.0017
        Assert.True(after < 0.25 * before, $"mean |shift| each Conv adds: {before} -> {after}");

        // on faces the correction never saw, the QDQ model's Conv outputs are closer to float32's on average
        var convOutputs = OnnxQuantizer.QuantizableConvs(fp32).Select(c => c.Output[0]).ToList();
        var target = BiasCorrector.ChannelMeans(fp32, convOutputs, heldOut, shape, optimize: true);
        double Shift(Onnx.ModelProto m)
        {
            var q = BiasCorrector.ChannelMeans(OnnxQuantizer.Quantize(m, ranges), convOutputs, heldOut, shape, optimize: false);
            return convOutputs.Average(o => q[o].Zip(target[o], (x, y) => Math.Abs(x - y)).Average());
        }
        double plain = Shift(fp32), fixedUp = Shift(corrected);
        // measured (bench, 260 kz-celebs and ORL chips): 0.091 -> 0.077
        Assert.True(fixedUp < 0.95 * plain, $"mean |shift| to float32 on held-out faces: {plain} without, {fixedUp} with the correction");
    }
}
