using FaceNetSharp.Recognition;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>Chinese whispers, DBSCAN and pairwise scores on hand-made and synthetic data.</summary>
public sealed class ClusteringTests
{
    /// <summary>
    /// Three blobs of 20 unit vectors in 64 dims around random centres (about 1.41 apart, as random directions in
    /// high dimension are nearly orthogonal), each sample about 0.2 from its centre, so about 0.28 from its
    /// blob-mates; shuffled so that blobs do not come in runs.
    /// </summary>
    private static (List<float[]> Vectors, List<int> Truth) ThreeBlobs(int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 3).Select(_ => SyntheticVectors.UnitVector(random, 64)).ToArray();
        var items = Enumerable.Range(0, 60).Select(i => (Vector: SyntheticVectors.Around(random, centres[i % 3], 0.2), Truth: i % 3)).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(items));
        return (items.Select(x => x.Vector).ToList(), items.Select(x => x.Truth).ToList());
    }

    [Fact]
    public void ChineseWhispers_ThreeBlobs_ThreeClustersF1One()
    {
        var (vectors, truth) = ThreeBlobs(10);
        var labels = Clustering.ChineseWhispers(vectors, threshold: 0.7f, EmbeddingMetric.Euclidean, seed: 1);
        var s = PairwiseScores.Compute(labels, truth);
        Assert.Equal(3, s.ClusterCount);
        Assert.Equal(1.0, s.F1);
        Assert.Equal(0, labels[0]); // numbered in order of first appearance
    }

    [Fact]
    public void ChineseWhispers_SameSeedSameLabels()
    {
        // A threshold at which blobs touch only loosely, so the visiting order matters.
        var (vectors, _) = ThreeBlobs(11);
        var a = Clustering.ChineseWhispers(vectors, 0.3f, EmbeddingMetric.Euclidean, seed: 7);
        var b = Clustering.ChineseWhispers(vectors, 0.3f, EmbeddingMetric.Euclidean, seed: 7);
        Assert.Equal(a, b);
    }

    [Fact]
    public void ChineseWhispers_NoEdges_EveryFaceItsOwnCluster()
    {
        float[][] v = [SyntheticVectors.Angle(0), SyntheticVectors.Angle(90), SyntheticVectors.Angle(180)];
        Assert.Equal([0, 1, 2], Clustering.ChineseWhispers(v, 0.5f));
    }

    [Fact]
    public void Dbscan_ThreeBlobsAndAnOutlier()
    {
        var (vectors, truth) = ThreeBlobs(12);
        vectors.Add(SyntheticVectors.UnitVector(new Random(99), 64)); // far from all blobs: noise
        truth.Add(3);
        var labels = Clustering.Dbscan(vectors, eps: 0.7f, minPoints: 3, EmbeddingMetric.Euclidean);
        Assert.Equal(Clustering.Noise, labels[^1]);
        var s = PairwiseScores.Compute(labels, truth);
        Assert.Equal(3, s.ClusterCount);
        Assert.Equal(1.0, s.F1);
    }

    [Fact]
    public void Dbscan_CoreBorderNoise_HandExample()
    {
        // Unit vectors at 0, 10, 20 and 90 degrees: chord 2 sin(θ/2) is 0.1743 for 10° and 0.3473 for 20°.
        // eps 0.2, minPoints 3: 10° has {0°, 10°, 20°} -> core; 0° and 20° have two each -> border points of its
        // cluster; 90° has only itself -> noise. 0° is seen first (not core, noise for now) and joins later.
        float[][] v = [SyntheticVectors.Angle(0), SyntheticVectors.Angle(10), SyntheticVectors.Angle(20), SyntheticVectors.Angle(90)];
        Assert.Equal([0, 0, 0, -1], Clustering.Dbscan(v, 0.2f, 3));
        // minPoints 2: every point of the chain is core; 90° still alone.
        Assert.Equal([0, 0, 0, -1], Clustering.Dbscan(v, 0.2f, 2));
        // minPoints 1: every point is core, so 90° is a cluster of its own.
        Assert.Equal([0, 0, 0, 1], Clustering.Dbscan(v, 0.2f, 1));
        // eps below the 10° chord: nothing is within reach of anything.
        Assert.Equal([-1, -1, -1, -1], Clustering.Dbscan(v, 0.17f, 2));
    }

    [Fact]
    public void PairwiseScores_HandComputed()
    {
        // predicted {0,1,2} {3,4} and noise {5}; truth a = {0,1}, b = {2,3,4,5}.
        // Predicted pairs: C(3,2) + C(2,2) = 4. True pairs: C(2,2) + C(4,2) = 1 + 6 = 7.
        // Together in both: (0,1) and (3,4) = 2. Precision 2/4, recall 2/7, F1 = 2PR/(P+R) = (2/7)/(11/14) = 4/11.
        var s = PairwiseScores.Compute([0, 0, 0, 1, 1, -1], ["a", "a", "b", "b", "b", "b"]);
        Assert.Equal(2, s.TruePositivePairs);
        Assert.Equal(4, s.PredictedPairs);
        Assert.Equal(7, s.TruePairs);
        Assert.Equal(0.5, s.Precision, 12);
        Assert.Equal(2.0 / 7, s.Recall, 12);
        Assert.Equal(4.0 / 11, s.F1, 12);
        Assert.Equal(2, s.ClusterCount);
    }

    [Fact]
    public void PairwiseScores_AllSingletons()
    {
        // No pair clustered together: precision is vacuously 1, recall 0 -> F1 0.
        var s = PairwiseScores.Compute([-1, -1, 0], [1, 1, 1]);
        Assert.Equal(1.0, s.Precision);
        Assert.Equal(0.0, s.Recall);
        Assert.Equal(0.0, s.F1);
        Assert.Equal(1, s.ClusterCount);
    }

    [Fact]
    public void MarkSmallClustersAsNoise_RenumbersTheRest()
    {
        Assert.Equal([-1, 0, 0, -1, 1, 1, -1], Clustering.MarkSmallClustersAsNoise([5, 2, 2, 7, 3, 3, -1], 2));
    }
}
