using System.Text.Json;
using FaceNetSharp.Evaluation;

namespace FaceNetSharp.Tests.Evaluation;

/// <summary>
/// Parity with facenet's protocol run by numpy/scikit-learn/scipy on the same embeddings:
/// Reference/facenet_protocol_reference.json, made by Reference/make_protocol_reference.py (400 seeded synthetic pairs
/// of 8-d float32 embeddings, 10 folds, both metrics, with and without subtract_mean).
/// </summary>
public sealed class VerificationParityTests
{
    private static readonly JsonElement Reference = Load();

    private static JsonElement Load()
    {
        var path = Path.Combine(TestPaths.RepoRoot, "tests", "FaceNetSharp.Tests", "Evaluation", "Reference", "facenet_protocol_reference.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    private static float[][] Embeddings(string name) =>
        Reference.GetProperty(name).EnumerateArray().Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();

    private static void AssertAll(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void DistancesMatchNumpy(int metric)
    {
        var e1 = Embeddings("embeddings1");
        var e2 = Embeddings("embeddings2");
        var expected = Doubles(Reference.GetProperty("distances").GetProperty(metric.ToString()));
        for (int i = 0; i < e1.Length; i++)
            Assert.Equal(expected[i], Distance.Compute(e1[i], e2[i], (DistanceMetric)metric), 1e-5); // float32 sums, other order
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(1, true)]
    public void MetricsMatchFacenetProtocol(int metric, bool subtractMean)
    {
        var expected = Reference.GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("metric").GetInt32() == metric && r.GetProperty("subtract_mean").GetBoolean() == subtractMean);
        var same = Reference.GetProperty("same").EnumerateArray().Select(v => v.GetBoolean()).ToArray();

        var r = LfwEvaluation.Evaluate(Embeddings("embeddings1"), Embeddings("embeddings2"), same,
            folds: expected.GetProperty("folds").GetInt32(), metric: (DistanceMetric)metric, subtractMean: subtractMean);

        const double tol = 1e-9;
        AssertAll(Doubles(expected.GetProperty("fold_accuracies")), r.FoldAccuracies, tol);
        AssertAll(Doubles(expected.GetProperty("fold_thresholds")), r.FoldThresholds, tol);
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), r.Accuracy, tol);
        Assert.Equal(expected.GetProperty("accuracy_std").GetDouble(), r.AccuracyStd, tol);
        Assert.Equal(expected.GetProperty("val").GetDouble(), r.Val, tol);
        Assert.Equal(expected.GetProperty("val_std").GetDouble(), r.ValStd, tol);
        Assert.Equal(expected.GetProperty("far").GetDouble(), r.Far, tol);
        AssertAll(Doubles(expected.GetProperty("tpr")), r.Tpr, tol);
        AssertAll(Doubles(expected.GetProperty("fpr")), r.Fpr, tol);
        Assert.Equal(expected.GetProperty("auc").GetDouble(), r.Auc, tol);
        Assert.Equal(expected.GetProperty("eer").GetDouble(), r.Eer, 1e-9); // brentq's own tolerance is ~1e-12
    }
}
