using System.Text.Json;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// The converted P/R/O-Nets against the reference outputs in mtcnn_nets_pattern.json (numpy reference run on facenet's
/// det1/2/3 weights). The golden input and outputs are NHWC in facenet's TRANSPOSED frame: golden axis 1 is image x,
/// axis 2 image y. The ONNX models take NCHW in normal orientation, so ONNX [n, c, y, x] = golden [n, x, y, c], and
/// the same mapping applies to P-Net's 4-D outputs.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class MtcnnParityTests(InstalledModelsFixture fx, ITestOutputHelper output)
{
    // float32 reference vs float32 ONNX Runtime, same weights: differences are summation-order rounding.
    private const double Tolerance = 1e-4;

    // The formula the golden file states in "input_pattern"; checked against the file's text below.
    private const string PatternFormula = "x[n,h,w,c] = (((h*7 + w*13 + c*29 + n*31) % 256) - 127.5) * 0.0078125";

    private static float Pattern(int n, int h, int w, int c) => (float)((((h * 7 + w * 13 + c * 29 + n * 31) % 256) - 127.5) * 0.0078125);

    [SkippableTheory]
    [InlineData(ModelNames.MtcnnPNet, "pnet")]
    [InlineData(ModelNames.MtcnnRNet, "rnet")]
    [InlineData(ModelNames.MtcnnONet, "onet")]
    public void MatchesGolden(string model, string key)
    {
        var golden = JsonDocument.Parse(File.ReadAllText(TestPaths.Shared("golden", "mtcnn_nets_pattern.json"))).RootElement;
        Assert.StartsWith(PatternFormula, golden.GetProperty("input_pattern").GetString());
        var store = fx.Require();
        var g = golden.GetProperty(key);
        var shape = g.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int batch = shape[0], gx = shape[1], gy = shape[2], channels = shape[3];

        // Golden [n, h=image x, w=image y, c] -> ONNX [n, c, image y, image x].
        var input = new DenseTensor<float>([batch, channels, gy, gx]);
        for (int n = 0; n < batch; n++)
            for (int x = 0; x < gx; x++)
                for (int y = 0; y < gy; y++)
                    for (int c = 0; c < channels; c++)
                        input[n, c, y, x] = Pattern(n, x, y, c);

        using var options = OnnxSessions.CreateOptions(2);
        using var session = new InferenceSession(store.PathOf(model), options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var outputNames = g.EnumerateObject().Select(p => p.Name).Where(n => n != "input_shape").ToList();
        Assert.Equal(outputNames.Order(), results.Select(r => r.Name).Order());

        foreach (var r in results)
        {
            var actual = r.AsTensor<float>();
            var expected = g.GetProperty(r.Name);
            double maxDiff = 0;
            if (actual.Rank == 4)
            {
                // P-Net maps: ONNX [n, c, y, x] vs golden [n][x][y][c].
                Assert.Equal(expected.GetArrayLength(), actual.Dimensions[0]);
                Assert.Equal(expected[0].GetArrayLength(), actual.Dimensions[3]);
                Assert.Equal(expected[0][0].GetArrayLength(), actual.Dimensions[2]);
                Assert.Equal(expected[0][0][0].GetArrayLength(), actual.Dimensions[1]);
                for (int n = 0; n < actual.Dimensions[0]; n++)
                    for (int c = 0; c < actual.Dimensions[1]; c++)
                        for (int y = 0; y < actual.Dimensions[2]; y++)
                            for (int x = 0; x < actual.Dimensions[3]; x++)
                                maxDiff = Math.Max(maxDiff, Math.Abs(actual[n, c, y, x] - expected[n][x][y][c].GetDouble()));
            }
            else
            {
                Assert.Equal([expected.GetArrayLength(), expected[0].GetArrayLength()], actual.Dimensions.ToArray());
                for (int n = 0; n < actual.Dimensions[0]; n++)
                    for (int c = 0; c < actual.Dimensions[1]; c++)
                        maxDiff = Math.Max(maxDiff, Math.Abs(actual[n, c] - expected[n][c].GetDouble()));
            }
            output.WriteLine($"{model} {r.Name} [{string.Join(",", actual.Dimensions.ToArray())}] max |diff| = {maxDiff:E2}");
            Assert.True(maxDiff <= Tolerance, $"{model} {r.Name}: max |diff| {maxDiff:E2} > {Tolerance:E0}");
        }
    }

    // Output side: in - 2 (3x3 conv), ceil(/2) (2x2 SAME pool), - 2, - 2.
    [SkippableTheory]
    [InlineData(12, 12, 1, 1)]
    [InlineData(25, 31, 8, 11)]  // odd sizes: TF "SAME" pooling keeps the trailing row/column (ceil)
    [InlineData(40, 33, 15, 12)]
    public void PNetAcceptsAnySizeAndBatch(int height, int width, int outHeight, int outWidth)
    {
        var store = fx.Require();
        using var options = OnnxSessions.CreateOptions(2);
        using var session = new InferenceSession(store.PathOf(ModelNames.MtcnnPNet), options);
        var input = new DenseTensor<float>([2, 3, height, width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var reg = results.Single(r => r.Name == "reg").AsTensor<float>();
        var prob = results.Single(r => r.Name == "prob").AsTensor<float>();
        Assert.Equal([2, 4, outHeight, outWidth], reg.Dimensions.ToArray());
        Assert.Equal([2, 2, outHeight, outWidth], prob.Dimensions.ToArray());
        // Softmax over the channel axis.
        Assert.Equal(1f, prob[1, 0, outHeight - 1, outWidth - 1] + prob[1, 1, outHeight - 1, outWidth - 1], 5);
    }
}
