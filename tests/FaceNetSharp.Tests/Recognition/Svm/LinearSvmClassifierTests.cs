using FaceNetSharp.Recognition;
using FaceNetSharp.Recognition.Svm;

namespace FaceNetSharp.Tests.Recognition.Svm;

public sealed class LinearSvmClassifierTests : IDisposable
{
    private const int Dims = 128;
    private readonly string _dir = Directory.CreateTempSubdirectory("fns-svm").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Unit vectors around <paramref name="classes"/> random centres: centre + Gaussian noise (sigma 0.04 per axis).</summary>
    private static List<(string Label, float[] Vector)> Blobs(int classes, int perClass, int seed, int firstClass = 0)
    {
        var centreRng = new Random(1234);
        var centres = Enumerable.Range(0, firstClass + classes).Select(_ => Unit(Enumerable.Range(0, Dims).Select(_ => Gauss(centreRng)).ToArray())).ToArray();
        var rng = new Random(seed);
        var result = new List<(string, float[])>();
        for (int c = firstClass; c < firstClass + classes; c++)
            for (int i = 0; i < perClass; i++)
                result.Add(($"person{c}", Unit(centres[c].Select(v => v + 0.04f * Gauss(rng)).ToArray())));
        return result;
    }

    private static float Gauss(Random r) => (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));

    private static float[] Unit(float[] v)
    {
        var n = (float)Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public void ClosedSet_NamesEveryPerson_WithProbabilities()
    {
        var svm = LinearSvmClassifier.Train("test-model", Dims, Blobs(5, 30, seed: 1), threshold: 2f);
        var test = Blobs(5, 20, seed: 2);
        int correct = 0;
        foreach (var (label, v) in test)
        {
            var p = svm.Predict(v);
            if (p.Label == label) correct++;
            Assert.NotNull(p.Probability);
            Assert.InRange(p.Probability!.Value, 0f, 1f);
        }
        Assert.Equal(test.Count, correct);
        Assert.Equal("svm", svm.Method);
        Assert.Equal(5, svm.Classes.Count);
    }

    [Fact]
    public void SaveLoad_GivesTheSamePredictions()
    {
        var svm = LinearSvmClassifier.Train("test-model", Dims, Blobs(4, 20, seed: 3), threshold: 0.3f);
        var path = Path.Combine(_dir, "svm.json");
        svm.Save(path);
        var loaded = EmbeddingClassifiers.Load(path, "test-model", Dims);
        Assert.IsType<LinearSvmClassifier>(loaded);
        foreach (var (_, v) in Blobs(4, 5, seed: 4))
            Assert.Equal(svm.Predict(v), loaded.Predict(v));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void OpenSet_StrangersAreUnknown_WithACalibratedThreshold()
    {
        var trained = ClassifierTraining.Train("test-model", Dims, EmbeddingMetric.Cosine, Blobs(5, 30, seed: 5),
            new ClassifierTrainingOptions { Method = ClassifierMethod.Svm }, fallbackThreshold: 0.5f);
        Assert.NotNull(trained.Calibration);
        var strangers = Blobs(2, 20, seed: 6, firstClass: 5); // two people never trained on
        Assert.All(strangers, s => Assert.Null(trained.Classifier.Predict(s.Vector).Label));
        var known = Blobs(5, 10, seed: 7);
        Assert.All(known, s => Assert.Equal(s.Label, trained.Classifier.Predict(s.Vector).Label));
    }

    [Fact]
    public void WrongDimension_IsAClearError()
    {
        var svm = LinearSvmClassifier.Train("test-model", Dims, Blobs(2, 10, seed: 8), threshold: 0.5f);
        var e = Assert.ThrowsAny<ArgumentException>(() => svm.Predict(new float[64]));
        Assert.Contains("128", e.Message);
    }

    [Fact]
    public void OnePerson_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => LinearSvmClassifier.Train("m", Dims, Blobs(1, 10, seed: 9), 0.5f));
        Assert.Contains("two people", e.Message);
    }
}
