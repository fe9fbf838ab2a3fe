using System.Security.Cryptography;
using FaceNetSharp.Alignment;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Onnx;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Embedding;

/// <summary>
/// An embedder whose output holds NaN or infinity (or is all zeros) is an error naming the model, never a vector, so
/// that no command prints a NaN distance or verdict (issue 9: "NaN different people", exit 0). The models are real
/// ONNX files built here: global average pool, then a 4-unit fully connected layer whose bias holds the bad value.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class NonFiniteEmbeddingTests(InstalledModelsFixture fx)
{
    private const int Size = 112;

    /// <summary>Writes NAME.onnx: input [N,3,112,112] → [N,4] = 0 · mean(channels) + bias.</summary>
    private static string WriteModel(TempFolder tmp, string name, float[] bias)
    {
        var b = new OnnxGraphBuilder(name);
        var x = b.Input("input", null, 3, Size, Size);
        x = b.Node("GlobalAveragePool", [x]);
        x = b.Flatten(x);
        x = b.Gemm(x, b.Initializer("w", new float[4 * 3], 4, 3), b.Initializer("b", bias, 4));
        b.Output(x, "embedding", null, 4);
        return tmp.Write(name + ".onnx", b.ToBytes("FaceNetSharp.Tests"));
    }

    private static EmbedderInfo Info(string name) =>
        new(name, Size, [127.5f, 127.5f, 127.5f], 1 / 128f, AlignmentTemplate.ArcFace112, 4, EmbeddingMetric.Cosine, 0.5f, null);

    private static RgbImage Grey() => new(Size, Size, Enumerable.Repeat((byte)128, Size * Size * 3).ToArray());

    [Theory]
    [InlineData(float.NaN, "NaN or infinite")]
    [InlineData(float.PositiveInfinity, "NaN or infinite")]
    [InlineData(0f, "all-zero")]
    public void A_non_finite_or_zero_output_is_an_error_naming_the_model(float bad, string cause)
    {
        using var tmp = new TempFolder();
        var path = WriteModel(tmp, "bad-net", bad == 0 ? [0, 0, 0, 0] : [bad, 1, 2, 3]);
        using var embedder = new OnnxFaceEmbedder(path, Info("bad-net"));

        var e = Assert.Throws<ModelInstallException>(() => embedder.Embed([Grey(), Grey()]));
        Assert.Contains("model bad-net", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains(cause, e.Message);
    }

    [Fact]
    public void A_finite_output_is_normalised()
    {
        using var tmp = new TempFolder();
        var path = WriteModel(tmp, "good-net", [3, 4, 0, 0]);
        using var embedder = new OnnxFaceEmbedder(path, Info("good-net"));
        Assert.Equal([0.6f, 0.8f, 0f, 0f], embedder.Embed([Grey()])[0]);
    }

    [Fact]
    public void A_distance_is_never_NaN()
    {
        Assert.Throws<ArgumentException>(() => EmbeddingDistance.Compute([float.NaN, 0], [1, 0], EmbeddingMetric.Cosine));
        Assert.Throws<ArgumentException>(() => EmbeddingDistance.Compute([0, 0], [1, 0], EmbeddingMetric.Cosine));
        Assert.Throws<ArgumentException>(() => EmbeddingDistance.Compute([float.PositiveInfinity, 0], [1, 0], EmbeddingMetric.Euclidean));
        Assert.Equal(0f, EmbeddingDistance.Compute([1, 0], [1, 0], EmbeddingMetric.Cosine));
    }

    [SkippableFact]
    public void Compare_with_a_model_that_outputs_NaN_fails_with_one_line_and_prints_no_verdict()
    {
        var store = fx.Require();
        var hopkins = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        var hopkins2 = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0002.jpg");
        using var tmp = new TempFolder();
        var path = WriteModel(tmp, "nan-net", [float.NaN, 1, 2, 3]);
        // its card, as 'facenet train export' writes one, with the file's true SHA-256: the file is intact, its output is not
        var card = store.ReadCard(ModelNames.MobileFaceNet)! with
        {
            Name = "nan-net",
            Outputs = [new ModelCardTensor("embedding", [null, 4], "raw embedding")],
            OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))),
        };
        tmp.Write("nan-net.card.json", card.ToJsonBytes());

        foreach (var format in new[] { "table", "json", "csv" })
        {
            var r = CliRunner.Run("compare", "--models-dir", store.Directory, "--model", path, "--format", format, hopkins, hopkins2);
            Assert.True(r.ExitCode == 2, r.Console);
            Assert.Contains($"model nan-net ({path}) output 1 NaN or infinite value(s) of 4", r.Console);
            Assert.DoesNotContain("NaN different", r.Console);
            Assert.DoesNotContain("people", r.Console);
            Assert.DoesNotContain("   at ", r.Console);
            Assert.Equal("", r.Out);
        }
    }
}
