using FaceNetSharp.Evaluation;

namespace FaceNetSharp.Tests.Evaluation;

public sealed class DistanceTests
{
    [Fact]
    public void EuclideanIsSquaredAsInFacenet()
    {
        // (1-4)^2 + (2-6)^2 = 9 + 16 = 25 (not 5: facenet's metric 0 takes no square root)
        Assert.Equal(25.0, Distance.SquaredEuclidean([1, 2], [4, 6]));
        Assert.Equal(25.0, Distance.Compute([1, 2], [4, 6], DistanceMetric.SquaredEuclidean));
        // unit vectors at right angles: 2; opposite: 4 (the top of facenet's 0..4 grid)
        Assert.Equal(2.0, Distance.SquaredEuclidean([1, 0], [0, 1]));
        Assert.Equal(4.0, Distance.SquaredEuclidean([1, 0], [-1, 0]));
        // long vectors go through the pooled buffer
        var a = Enumerable.Repeat(1f, 2000).ToArray();
        var b = Enumerable.Repeat(0.5f, 2000).ToArray();
        Assert.Equal(500.0, Distance.SquaredEuclidean(a, b), 1e-3);
    }

    [Fact]
    public void CosineIsAngleOverPi()
    {
        Assert.Equal(0.0, Distance.Cosine([3, 4], [6, 8]), 1e-7);
        Assert.Equal(0.5, Distance.Cosine([1, 0], [0, 2]), 1e-12);
        Assert.Equal(1.0, Distance.Cosine([1, 0], [-3, 0]), 1e-12);
        Assert.Equal(0.25, Distance.Cosine([1, 0], [1, 1]), 1e-7); // 45 degrees
        Assert.True(double.IsNaN(Distance.Cosine([0, 0], [1, 0])));
        Assert.Throws<ArgumentException>(() => Distance.Cosine([1, 0], [1, 0, 0]));
    }

    [Fact]
    public void MeanIsOverBothEmbeddingsOfTheGivenPairs()
    {
        float[][] e1 = [[1, 0], [3, 0], [100, 100]];
        float[][] e2 = [[0, 1], [0, 3], [100, 100]];
        // pairs 0 and 1: (1+0+3+0)/4 = 1, (0+1+0+3)/4 = 1
        Assert.Equal([1f, 1f], Distance.Mean(e1, e2, [0, 1]));
        var centred = Distance.Pairwise(e1, e2, DistanceMetric.SquaredEuclidean, [1f, 1f]);
        Assert.Equal([2.0, 18.0, 0.0], centred);
    }

    [Fact]
    public void SubtractMeanRecoversAngularSignalOnAnOffsetCloud()
    {
        // Every embedding is c + s with a large common offset c, so raw angles are all tiny (below the 0.01 grid step)
        // and cosine verification is at chance. Same pairs are (c + s, c + 1.1 s), different pairs (c + s, c - s);
        // after subtracting the training mean (about c) same pairs are near 0 and different pairs near 1.
        var c = new[] { 100f, 100f };
        int n = 40;
        var e1 = new float[n][];
        var e2 = new float[n][];
        var same = new bool[n];
        for (int i = 0; i < n; i++)
        {
            double angle = 2 * Math.PI * (i / 2) / (n / 2);
            var s = new[] { (float)Math.Cos(angle), (float)Math.Sin(angle) };
            same[i] = i % 2 == 0;
            float k = same[i] ? 1.1f : -1f;
            e1[i] = [c[0] + s[0], c[1] + s[1]];
            e2[i] = [c[0] + k * s[0], c[1] + k * s[1]];
        }

        var raw = LfwEvaluation.Evaluate(e1, e2, same, folds: 10, metric: DistanceMetric.Cosine);
        var centred = LfwEvaluation.Evaluate(e1, e2, same, folds: 10, metric: DistanceMetric.Cosine, subtractMean: true);

        Assert.Equal(0.5, raw.Accuracy, 1e-12);
        Assert.Equal(1.0, centred.Accuracy, 1e-12);
        Assert.Equal(1.0, centred.Auc, 1e-12);
    }

    [Fact]
    public void EmbeddingAndDistanceOverloadsAgree()
    {
        var rng = new Random(7);
        int n = 200;
        var e1 = new float[n][];
        var e2 = new float[n][];
        var same = new bool[n];
        for (int i = 0; i < n; i++)
        {
            same[i] = i % 2 == 0;
            e1[i] = Normalised(Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
            e2[i] = same[i]
                ? Normalised(e1[i].Select(v => v + 0.3f * ((float)rng.NextDouble() - 0.5f)).ToArray())
                : Normalised(Enumerable.Range(0, 8).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        }
        var d = Enumerable.Range(0, n).Select(i => Distance.SquaredEuclidean(e1[i], e2[i])).ToArray();

        var fromEmbeddings = LfwEvaluation.Evaluate(e1, e2, same, folds: 5);
        var fromDistances = LfwEvaluation.Evaluate(d, same, folds: 5);

        Assert.Equal(fromDistances.Accuracy, fromEmbeddings.Accuracy, 1e-3);
        Assert.Equal(fromDistances.Auc, fromEmbeddings.Auc, 1e-3);
        Assert.True(fromEmbeddings.Auc > 0.9);
    }

    private static float[] Normalised(float[] v)
    {
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
