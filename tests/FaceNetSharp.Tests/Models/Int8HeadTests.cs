using System.Numerics.Tensors;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// Quantizer version 4: MobileFaceNet's linear head (the 7x7 depthwise Conv after the last PRelu and its two 1x1
/// Convs) stays float32, since the uint8 rounding of the depthwise Conv's output was the largest single error of its
/// int8 vectors; and the quantizer's float32 activations (bench int8-sweep --activations) keep the function.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class Int8HeadTests
{
    private readonly InstalledModelsFixture models;

    public Int8HeadTests(InstalledModelsFixture models) => this.models = models;

    private static List<double> Cosines(string modelPath, EmbedderInfo info, IReadOnlyList<RgbImage> chips, IReadOnlyList<float[]> reference)
    {
        using var e = new OnnxFaceEmbedder(modelPath, info);
        var v = e.Embed(chips);
        return [.. reference.Zip(v, (a, b) => (double)TensorPrimitives.Dot(a, b))];
    }

    [SkippableFact]
    public void The_int8_MobileFaceNet_keeps_its_linear_head_in_float32_and_its_vectors_come_closer_to_float32()
    {
        var store = models.Require();
        var card = store.ReadCard(ModelNames.MobileFaceNet)!;
        var info = Embedders.FromCard(card, store.CardPathOf(ModelNames.MobileFaceNet));
        var fp32Bytes = File.ReadAllBytes(store.PathOf(ModelNames.MobileFaceNet));
        var head = OnnxQuantizer.LinearHeadConvs(ModelProto.Parser.ParseFrom(fp32Bytes));
        Assert.Equal(3, head.Count);

        var chips = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
        var (v4, v4Card) = Int8Models.Build(fp32Bytes, card, info, chips, Int8Models.MethodFor(ModelNames.MobileFaceNet));
        var (quantizedHead, _) = Int8Models.Build(fp32Bytes, card, info, chips, Int8Models.MethodFor(ModelNames.MobileFaceNet), floatHead: false);
        Assert.Equal(Int8Models.QuantizerVersion, v4Card.Quantization!.QuantizerVersion);
        Assert.Contains("linear head", v4Card.Quantization.Format);

        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "v4.onnx");
        var other = Path.Combine(dir.Path, "head-int8.onnx");
        var optimized = Path.Combine(dir.Path, "opt.onnx");
        File.WriteAllBytes(path, v4);
        File.WriteAllBytes(other, quantizedHead);
        using (var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimized })
        using (new InferenceSession(path, so)) { }
        var opt = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node;
        var ops = opt.GroupBy(x => x.OpType).ToDictionary(g => g.Key, g => g.Count());
        string all = string.Join(", ", ops.Select(kv => $"{kv.Key} {kv.Value}"));
        // version 3: 118 QLinearConv, no float Conv
        Assert.Equal(115, ops.GetValueOrDefault("QLinearConv"));
        // the float32 model's Convs, before the PRelu split makes some of them three (version 3: 52)
        Assert.Equal(49, v4Card.Quantization.QuantizedConvs);
        // the head's Convs run in float32 (ONNX Runtime's NCHWc Conv), with their float32 weights, not DequantizeLinear'd int8 ones
        var floatConvs = opt.Where(n => n.OpType == "Conv").ToList();
        Assert.Equal(3, floatConvs.Count);
        Assert.All(head, h => Assert.Contains(floatConvs, n => n.Name.StartsWith(h, StringComparison.Ordinal)));
        Assert.True(ops.GetValueOrDefault("DequantizeLinear") <= 1, all);

        // the property it relies on: on faces the calibration never saw (2 photos of each of 25 kz-celebs people),
        // the int8 vectors are closer to float32 with the head in float32 than with it quantized
        // (bench int8-sweep, 130 kz-celebs and ORL faces: mean 1 - cosine 0.0046 -> 0.0034, lowest cosine 0.980 -> 0.988)
        var test = KzCelebsChips.Aligned(store.Directory, "mobilefacenet", photosPerPerson: 2);
        using var fp = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), info);
        var reference = fp.Embed(test);
        var withHead = Cosines(path, info, test, reference);
        var without = Cosines(other, info, test, reference);
        double errWith = withHead.Average(c => 1 - c), errWithout = without.Average(c => 1 - c);
        Assert.True(errWith < 0.85 * errWithout, $"mean 1 - cosine to float32: {errWith:G4} with the head in float32, {errWithout:G4} with it quantized");
        Assert.True(withHead.Min() > without.Min(), $"lowest cosine to float32: {withHead.Min():F4} with the head in float32, {without.Min():F4} with it quantized");
    }

    [SkippableFact]
    public void Activations_kept_in_float32_keep_the_PRelu_split_exact_and_bring_vectors_closer()
    {
        var store = models.Require();
        var card = store.ReadCard(ModelNames.MobileFaceNet)!;
        var info = Embedders.FromCard(card, store.CardPathOf(ModelNames.MobileFaceNet));
        var fp32 = ModelProto.Parser.ParseFrom(File.ReadAllBytes(store.PathOf(ModelNames.MobileFaceNet)));
        var chips = Int8Models.CalibrationChips(store, info.Template, info.InputSize);
        var inputs = Int8Models.CalibrationInputs(chips, info);
        var ranges = ActivationCalibrator.Measure(fp32, OnnxQuantizer.TensorsToCalibrate(fp32), inputs, [3, info.InputSize, info.InputSize], CalibrationMethod.MinMax);
        var activations = OnnxQuantizer.ActivationTensors(fp32, ranges);
        // every activation in float32, the PRelu split's clamps (Relu(z), Min(a+ z, 0), Max(a- z, 0)) done by Clips:
        // the int8 weights' model, whose vectors are within weight rounding of float32
        var everything = OnnxQuantizer.Quantize(fp32, ranges, floatActivations: activations.ToHashSet(StringComparer.Ordinal));
        Assert.DoesNotContain(everything.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Contains(everything.Graph.Node, n => n.OpType == "Clip");
        var test = KzCelebsChips.Aligned(store.Directory, "mobilefacenet");
        using var fp = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), info);
        var reference = fp.Embed(test);
        using var dir = new TempFolder();
        var path = Path.Combine(dir.Path, "float-activations.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(everything));
        var cos = Cosines(path, info, test, reference);
        // weights-only int8 (bench int8-sweep WeightsOnly, 130 faces): lowest 0.9987; without the Clips the split
        // would add Relu(z) and the unclamped slope branches and lose the PRelu altogether
        Assert.True(cos.Min() > 0.995, $"lowest cosine to float32 with every activation in float32: {cos.Min():F4}");
        Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(fp32, ranges, floatActivations: new HashSet<string> { "no such tensor" }));
    }
}
