using System.Text.Json;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// The converted MobileFaceNet against the raw embeddings of the reference implementation for the two aligned
/// Hopkins chips (pipeline_hopkins.json, key mobilefacenet_raw_192), and batch independence.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class MobileFaceNetParityTests(InstalledModelsFixture fx, ITestOutputHelper output)
{
    // Cosine of L2-normalised vectors; a layout or padding mistake gives ~0 (MODELS.md), rounding gives 1 - 1e-7.
    private const double MinCosine = 0.9999;

    // Batch 1 and batch 3 run different kernels' blocking; float32 sums may differ in the last bits.
    private const float BatchTolerance = 1e-5f;

    private static (string[] Inputs, float[][] Embeddings, double Cosine) Golden()
    {
        var root = JsonDocument.Parse(File.ReadAllText(TestPaths.Shared("golden", "pipeline_hopkins.json"))).RootElement;
        var m = root.GetProperty("mobilefacenet_raw_192");
        Assert.Equal("(rgb-127.5)/128, NHWC", m.GetProperty("normalization").GetString());
        return (
            [.. m.GetProperty("inputs").EnumerateArray().Select(e => e.GetString()!)],
            [.. m.GetProperty("embeddings_raw").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray())],
            m.GetProperty("cosine").GetDouble());
    }

    /// <summary>A 112x112 chip as CHW floats, RGB, (x - 127.5) / 128.</summary>
    private static float[] LoadChip(string path)
    {
        using var bmp = SKBitmap.Decode(path) ?? throw new InvalidDataException("cannot decode " + path);
        Assert.Equal(112, bmp.Width);
        Assert.Equal(112, bmp.Height);
        var chw = new float[3 * 112 * 112];
        for (int y = 0; y < 112; y++)
            for (int x = 0; x < 112; x++)
            {
                var p = bmp.GetPixel(x, y);
                int i = y * 112 + x;
                chw[i] = (p.Red - 127.5f) / 128f;
                chw[112 * 112 + i] = (p.Green - 127.5f) / 128f;
                chw[2 * 112 * 112 + i] = (p.Blue - 127.5f) / 128f;
            }
        return chw;
    }

    private static float[][] Embed(InferenceSession session, params float[][] chips)
    {
        var input = new DenseTensor<float>(chips.SelectMany(c => c).ToArray(), [chips.Length, 3, 112, 112]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var e = results.Single(r => r.Name == "embedding").AsTensor<float>();
        Assert.Equal([chips.Length, 192], e.Dimensions.ToArray());
        return [.. Enumerable.Range(0, chips.Length).Select(n => Enumerable.Range(0, 192).Select(k => e[n, k]).ToArray())];
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    [SkippableFact]
    public void EmbeddingsMatchGolden()
    {
        var (inputs, golden, goldenCosine) = Golden();
        var chips = inputs.Select(n => LoadChip(TestPaths.Shared("golden", n))).ToArray();
        var store = fx.Require();
        using var options = OnnxSessions.CreateOptions(2);
        using var session = new InferenceSession(store.PathOf(ModelNames.MobileFaceNet), options);

        var actual = Embed(session, chips);
        for (int i = 0; i < chips.Length; i++)
        {
            var cos = Cosine(actual[i], golden[i]);
            var maxDiff = actual[i].Zip(golden[i], (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"{inputs[i]}: cosine to golden {cos:F7}, max |diff| raw {maxDiff:E2}");
            Assert.True(cos >= MinCosine, $"{inputs[i]}: cosine {cos} < {MinCosine}");
        }
        var pair = Cosine(actual[0], actual[1]);
        output.WriteLine($"cosine between the two chips {pair:F5} (golden {goldenCosine:F5})");
        Assert.Equal(goldenCosine, pair, 3);
    }

    [SkippableFact]
    public void BatchOfThreeEqualsBatchOfOne()
    {
        var (inputs, _, _) = Golden();
        var chips = inputs.Select(n => LoadChip(TestPaths.Shared("golden", n))).ToArray();
        var store = fx.Require();
        using var options = OnnxSessions.CreateOptions(2);
        using var session = new InferenceSession(store.PathOf(ModelNames.MobileFaceNet), options);

        var one = Embed(session, chips[1])[0];
        var three = Embed(session, chips[0], chips[1], chips[0]);
        var maxDiff = one.Zip(three[1], (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"batch 1 vs batch 3: max |diff| {maxDiff:E2}");
        Assert.True(maxDiff <= BatchTolerance, $"batch 1 vs 3 differ by {maxDiff}");
        Assert.Equal(three[0], three[2]);
    }
}
