using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Export;
using FaceNetSharp.Training.Networks;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

/// <summary>The exported ONNX graph computes what the TorchSharp module computes in eval mode, on real face chips.</summary>
public sealed class ExportParityTests
{
    // Tolerance of the issue: float32 folding of batch norm and a different summation order in ONNX Runtime.
    private const float Tolerance = 1e-4f;

    public ExportParityTests() => TorchTest.Init();

    /// <summary>Eight real chips, standardised as the card says, [8, 3, S, S].</summary>
    internal static float[] Chips(int size, ImageStandardization standardization, out int count)
    {
        var root = TorchTest.Shared("faces", "kz-celebs-talgin", "our_dataset");
        var files = Directory.GetDirectories(root).Order(StringComparer.Ordinal).Take(4)
            .SelectMany(d => Directory.GetFiles(d).Order(StringComparer.Ordinal).Take(2)).ToArray();
        count = files.Length;
        var data = new float[count * 3 * size * size];
        for (int i = 0; i < count; i++)
            FacePreprocessing.Fill(ImageLoader.Load(files[i]), size, standardization, Augmentation.None, new Random(0),
                data.AsSpan(i * 3 * size * size, 3 * size * size));
        return data;
    }

    /// <summary>Gives batch-norm layers non-trivial running statistics and affine parameters, as after training.</summary>
    private static void Perturb(EmbeddingNetwork net, float[] batch, int n, int size)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var (name, p) in net.named_parameters())
                if (name.Contains("bn.") || name.Contains("last_bn.")) p.add_(randn_like(p).mul(0.1));
            net.train();
            var x = tensor(batch, [n, 3, size, size]);
            for (int i = 0; i < 3; i++) net.forward(x);   // updates the running statistics
        }
        net.eval();
    }

    private static float[] RunOnnx(byte[] model, float[] input, int n, int size, out int[] outShape)
    {
        using var session = new InferenceSession(model);
        var t = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, [n, 3, size, size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", t)]);
        var output = results.Single(r => r.Name == "embedding").AsTensor<float>();
        outShape = output.Dimensions.ToArray();
        return output.ToArray();
    }

    private static float[] RunTorch(EmbeddingNetwork net, float[] input, int n, int size)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        return net.forward(tensor(input, [n, 3, size, size])).data<float>().ToArray();
    }

    private static void AssertParity(EmbeddingNetwork net, int size, ImageStandardization standardization)
    {
        var fixedInput = Chips(size, ImageStandardization.Fixed, out int n);
        var torchInput = standardization == ImageStandardization.Fixed ? fixedInput : Chips(size, standardization, out _);
        var expected = RunTorch(net, torchInput, n, size);
        var actual = RunOnnx(OnnxEmbeddingExporter.ToOnnx(net, size, standardization), fixedInput, n, size, out var shape);
        Assert.Equal(new[] { n, net.EmbeddingSize }, shape);
        float maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        float maxAbs = expected.Max(Math.Abs);
        Assert.True(maxAbs > 1e-2f, $"outputs are too small to mean anything ({maxAbs})");
        Assert.True(maxDiff < Tolerance, $"max |torch - onnx| = {maxDiff} (outputs up to {maxAbs})");
    }

    [SkippableFact]
    public void MobileFaceNet_with_batch_norm_exports_to_onnx_within_1e_4()
    {
        manual_seed(1);
        using var net = new MobileFaceNet(new MobileFaceNetOptions(EmbeddingSize: 128));
        Perturb(net, Chips(112, ImageStandardization.Fixed, out int n), n, 112);
        AssertParity(net, 112, ImageStandardization.Fixed);
    }

    [SkippableFact]
    public void Folded_MobileFaceNet_exports_to_onnx_within_1e_4()
    {
        manual_seed(2);
        using var net = new MobileFaceNet(new MobileFaceNetOptions(FoldedBatchNorm: true));
        net.eval();
        AssertParity(net, 112, ImageStandardization.Fixed);
    }

    [SkippableFact]
    public void InceptionResnetV1_exports_to_onnx_within_1e_4_with_prewhitening_in_the_graph()
    {
        manual_seed(3);
        using var net = new InceptionResnetV1(new InceptionResnetV1Options(EmbeddingSize: 128, KeepProbability: 0.8));
        Perturb(net, Chips(160, ImageStandardization.Fixed, out int n), n, 160);
        AssertParity(net, 160, ImageStandardization.PerImage);
    }

    [SkippableFact]
    public void Exported_model_and_card_open_with_Embedders_Open()
    {
        var chips = Chips(112, ImageStandardization.Fixed, out _);
        manual_seed(4);
        using var net = new MobileFaceNet(new MobileFaceNetOptions(EmbeddingSize: 64));
        net.eval();
        var dir = Directory.CreateTempSubdirectory("fns-export-");
        try
        {
            var path = Path.Combine(dir.FullName, "tiny.onnx");
            var card = OnnxEmbeddingExporter.Write(net, 112, path, new EmbeddingExportInfo("tiny", "test", "facenet train", "test", "MIT",
                OnnxEmbeddingExporter.UncalibratedThreshold, "uncalibrated default"));
            Assert.True(File.Exists(Path.Combine(dir.FullName, "tiny.card.json")));
            using var embedder = Embedders.Open(new ModelStore(dir.FullName), path);
            Assert.Equal(64, embedder.Info.Dimensions);
            Assert.Equal(EmbeddingMetric.Cosine, embedder.Info.Metric);
            var root = TorchTest.Shared("faces", "kz-celebs-talgin", "our_dataset");
            var face = ImageLoader.Load(Directory.GetFiles(Directory.GetDirectories(root).Order(StringComparer.Ordinal).First()).Order(StringComparer.Ordinal).First());
            var e = embedder.Embed([face]);
            Assert.Equal(64, e[0].Length);
            Assert.Equal(1.0, Math.Sqrt(e[0].Sum(v => (double)v * v)), 3);
            Assert.Equal(64, card.OnnxSha256.Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary><c>facenet models import</c>: a PyTorch (zip-format) Inception-ResNet-v1 state dict becomes an ONNX embedder computing the same function.</summary>
public sealed class ModelImportTests
{
    public ModelImportTests() => TorchTest.Init();

    [SkippableFact]
    public void Imported_state_dict_gives_the_same_embeddings_as_the_module()
    {
        var chips = ExportParityTests.Chips(160, ImageStandardization.Fixed, out int n);
        var dir = Directory.CreateTempSubdirectory("fns-import-");
        try
        {
            manual_seed(6);
            using var net = new InceptionResnetV1(new InceptionResnetV1Options(EmbeddingSize: 96));
            using (no_grad())
                foreach (var (name, p) in net.named_parameters())
                    if (name.Contains("bn.")) p.add_(randn_like(p).mul(0.1));
            foreach (var (name, b) in net.named_buffers())
                if (name.EndsWith("running_var", StringComparison.Ordinal)) { using var _ = no_grad(); b.mul_(rand_like(b).add(0.5)); }
            net.eval();
            var pt = Path.Combine(dir.FullName, "irv1.pt");
            TorchSharp.PyBridge.PyBridgeModuleExtensions.save_py(net, pt);
            var onnx = Path.Combine(dir.FullName, "irv1.onnx");
            var card = FaceNetSharp.Training.Import.ModelImport.ImportInceptionResnetV1(pt, onnx);
            Assert.Equal(new long?[] { null, 96 }, card.Outputs[0].Shape);
            float[] expected;
            using (var scope = NewDisposeScope())
            using (inference_mode())
                expected = net.forward(tensor(chips, [n, 3, 160, 160])).data<float>().ToArray();
            using var session = new InferenceSession(onnx);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input",
                new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(chips, [n, 3, 160, 160]))]);
            var actual = results.Single().AsTensor<float>().ToArray();
            float maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff < 1e-4f, $"max |torch - onnx| = {maxDiff}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
