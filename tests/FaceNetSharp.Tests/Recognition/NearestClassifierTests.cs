using FaceNetSharp.Recognition;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>k-NN and nearest-centre classifiers, their open-set rule, calibration and JSON files.</summary>
public sealed class NearestClassifierTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "facenetsharp-classifier-" + Guid.NewGuid().ToString("N"));

    public NearestClassifierTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (string, float[]) S(string label, double degrees) => (label, SyntheticVectors.Angle(degrees));

    [Fact]
    public void KNearest_VotesAndTies_HandExample()
    {
        // Training A at 0°, B at 20° and 25°; query at 8°: neighbours A (8° away), B (12°), B (17°).
        var train = new[] { S("A", 0), S("B", 20), S("B", 25) };
        var q = SyntheticVectors.Angle(8);

        var k1 = KNearestClassifier.Train("m", 2, train, k: 1, threshold: 0.1f).Predict(q);
        Assert.Equal("A", k1.Label);
        Assert.Equal(1 - Math.Cos(8 * Math.PI / 180), k1.Distance, 1e-6);

        // k = 3: B wins 2 votes to 1; the open-set distance is to B's nearest face: 1 - cos 12° = 0.021852.
        var k3 = KNearestClassifier.Train("m", 2, train, k: 3, threshold: 0.1f).Predict(q);
        Assert.Equal("B", k3.Label);
        Assert.Equal(0.021852, k3.Distance, 1e-6);

        // k = 2: one vote each; the tie goes to the class with the nearer face, A.
        Assert.Equal("A", KNearestClassifier.Train("m", 2, train, k: 2, threshold: 0.1f).Predict(q).Label);

        // Open set: at 120° the nearest face is B at 25°, 95° away: 1 - cos 95° = 1.087156 > 0.1 -> unknown.
        var far = KNearestClassifier.Train("m", 2, train, k: 1, threshold: 0.1f).Predict(SyntheticVectors.Angle(120));
        Assert.False(far.IsKnown);
        Assert.Null(far.Label);
        Assert.Equal("B", far.NearestClass);
        Assert.Equal(1.087156, far.Distance, 1e-5);
    }

    [Fact]
    public void NearestCentre_HandExample()
    {
        // A's faces at 0° and 20° have their centre at 10°; B's at 90°.
        var c = NearestCentreClassifier.Train("m", 2, [S("A", 0), S("A", 20), S("B", 90)], threshold: 0.1f);
        Assert.Equal(SyntheticVectors.Angle(10), c.Centre(0).ToArray(), (x, y) => Math.Abs(x - y) < 1e-6);
        var a = c.Predict(SyntheticVectors.Angle(10));
        Assert.Equal("A", a.Label);
        Assert.Equal(0, a.Distance, 1e-6);
        // At 60°: 50° from A's centre, 30° from B: B, cosine 1 - cos 30° = 0.133975 >= 0.1 -> unknown.
        var u = c.Predict(SyntheticVectors.Angle(60));
        Assert.Null(u.Label);
        Assert.Equal("B", u.NearestClass);
        Assert.Equal(0.133975, u.Distance, 1e-6);
    }

    [Fact]
    public void Calibration_FromDistances_HandExample()
    {
        // Genuine 0.1 0.2 0.3 0.6; impostor 0.5 0.7 0.8 0.9. Candidates halfway between distinct distances.
        // t = 0.40: FRR 1/4 (0.6), FAR 0 -> balanced 0.875; t = 0.65: FRR 0, FAR 1/4 (0.5) -> 0.875 too;
        // the tie goes to the smaller threshold, 0.40. Target FAR 0 -> the largest t with no impostor below: 0.40.
        // Target FAR 0.25 -> the largest t with at most one impostor below: 0.65.
        float[] genuine = [0.6f, 0.1f, 0.3f, 0.2f], impostor = [0.9f, 0.5f, 0.8f, 0.7f];
        var balanced = ThresholdCalibration.FromDistances(genuine, impostor, EmbeddingMetric.Cosine, ThresholdObjective.BestBalancedAccuracy);
        Assert.Equal(0.4f, balanced.Threshold, 1e-6f);
        Assert.Equal(0.875, balanced.BalancedAccuracy, 12);
        Assert.Equal(0.0, balanced.FalseAcceptRate);
        Assert.Equal(0.25, balanced.FalseRejectRate);

        var far0 = ThresholdCalibration.FromDistances(genuine, impostor, EmbeddingMetric.Cosine, ThresholdObjective.TargetFalseAcceptRate, 0);
        Assert.Equal(0.4f, far0.Threshold, 1e-6f);
        var far25 = ThresholdCalibration.FromDistances(genuine, impostor, EmbeddingMetric.Cosine, ThresholdObjective.TargetFalseAcceptRate, 0.25);
        Assert.Equal(0.65f, far25.Threshold, 1e-6f);
        Assert.Equal(0.25, far25.FalseAcceptRate);
        Assert.Equal(0.0, far25.FalseRejectRate);
    }

    /// <summary>
    /// 5 enrolled people (10 training and 5 test faces each) and 4 strangers (5 faces each), 32 dims, faces about
    /// 0.3 from their person's random centre.
    /// </summary>
    private static (List<(string, float[])> Train, List<(string, float[])> Known, List<float[]> Strangers) OpenSetData()
    {
        var random = new Random(21);
        var centres = Enumerable.Range(0, 9).Select(_ => SyntheticVectors.UnitVector(random, 32)).ToArray();
        var train = new List<(string, float[])>();
        var known = new List<(string, float[])>();
        for (int p = 0; p < 5; p++)
        {
            for (int i = 0; i < 10; i++) train.Add(($"p{p}", SyntheticVectors.Around(random, centres[p], 0.3)));
            for (int i = 0; i < 5; i++) known.Add(($"p{p}", SyntheticVectors.Around(random, centres[p], 0.3)));
        }
        var strangers = Enumerable.Range(5, 4).SelectMany(p => Enumerable.Range(0, 5).Select(_ => SyntheticVectors.Around(random, centres[p], 0.3))).ToList();
        return (train, known, strangers);
    }

    [Fact]
    public void KNearest_OpenSet_CalibratedThreshold()
    {
        var (train, known, strangers) = OpenSetData();
        var cal = ThresholdCalibration.ForNearestNeighbour(train, EmbeddingMetric.Euclidean, ThresholdObjective.BestBalancedAccuracy);
        Assert.Equal(50, cal.GenuineCount);
        Assert.Equal(50, cal.ImpostorCount);
        Assert.Equal(1.0, cal.BalancedAccuracy); // the blobs are well apart
        var knn = KNearestClassifier.Train("m", 32, train, k: 3, cal.Threshold, EmbeddingMetric.Euclidean);
        Assert.All(known, x => Assert.Equal(x.Item1, knn.Predict(x.Item2).Label));
        Assert.All(strangers, x => Assert.False(knn.Predict(x).IsKnown));
    }

    [Fact]
    public void NearestCentre_OpenSet_CalibratedThreshold()
    {
        var (train, known, strangers) = OpenSetData();
        var cal = ThresholdCalibration.ForNearestCentre(train, EmbeddingMetric.Cosine, ThresholdObjective.TargetFalseAcceptRate, 0.0);
        Assert.Equal(0.0, cal.FalseAcceptRate);
        var ncc = NearestCentreClassifier.Train("m", 32, train, cal.Threshold);
        Assert.All(known, x => Assert.Equal(x.Item1, ncc.Predict(x.Item2).Label));
        Assert.All(strangers, x => Assert.False(ncc.Predict(x).IsKnown));
    }

    [Fact]
    public void SaveLoad_RoundTrip_BothMethods()
    {
        var (train, known, strangers) = OpenSetData();
        IEmbeddingClassifier[] classifiers =
        [
            KNearestClassifier.Train("facenet-x", 32, train, 3, 0.8f, EmbeddingMetric.Euclidean),
            NearestCentreClassifier.Train("facenet-x", 32, train, 0.3f),
        ];
        foreach (var c in classifiers)
        {
            var path = Path.Combine(_dir, c.Method + ".json");
            c.Save(path);
            var loaded = EmbeddingClassifiers.Load(path, "facenet-x", 32);
            Assert.Equal(c.GetType(), loaded.GetType());
            Assert.Equal(c.Classes, loaded.Classes);
            Assert.Equal(c.Threshold, loaded.Threshold);
            Assert.Equal(c.Metric, loaded.Metric);
            foreach (var v in known.Select(x => x.Item2).Concat(strangers))
            {
                // Loading re-normalises the saved unit vectors, which may move their last bits.
                var (expected, actual) = (c.Predict(v), loaded.Predict(v));
                Assert.Equal(expected.Label, actual.Label);
                Assert.Equal(expected.NearestClass, actual.NearestClass);
                Assert.Equal(expected.Distance, actual.Distance, 1e-6f);
            }
            Assert.Throws<EmbeddingModelMismatchException>(() => EmbeddingClassifiers.Load(path, "other", 32));
        }
        File.WriteAllText(Path.Combine(_dir, "bad.json"), """{"format":"facenetsharp-classifier","formatVersion":1,"method":"svm","modelId":"m","dimensions":2,"metric":"cosine","threshold":1}""");
        Assert.Contains("svm", Assert.Throws<InvalidDataException>(() => EmbeddingClassifiers.Load(Path.Combine(_dir, "bad.json"))).Message);
    }
}
