using FaceNetSharp.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

public sealed class LossTests
{
    public LossTests() => TorchTest.Init();

    [Fact]
    public void Center_loss_matches_facenet_by_hand()
    {
        using var scope = NewDisposeScope();
        using var cl = new CenterLoss(numClasses: 2, numFeatures: 2, alfa: 0.5);
        // f0=[1,2] (class 0), f1=[3,4] (class 1), f2=[5,6] (class 0); centres start at 0.
        var f = tensor(new float[] { 1, 2, 3, 4, 5, 6 }).reshape(3, 2).requires_grad_();
        var y = tensor(new long[] { 0, 1, 0 });
        var loss = cl.forward(f, y);
        // mean of squares over N*D = (1+4+9+16+25+36)/6 = 91/6
        Assert.Equal(91f / 6f, loss.item<float>(), 5);
        // centres: c0 -= 0.5*(0-f0) + 0.5*(0-f2) = [3,4]; c1 -= 0.5*(0-f1) = [1.5,2]
        Assert.Equal(new float[] { 3, 4, 1.5f, 2 }, cl.Centers.data<float>().ToArray());
        // d loss / d f = 2 (f - c_batch) / (N*D) with the centres gathered before the update (zero)
        loss.backward();
        var g = f.grad!.data<float>().ToArray();
        float[] expected = [2 / 6f, 4 / 6f, 6 / 6f, 8 / 6f, 10 / 6f, 12 / 6f];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], g[i], 5);
        Assert.False(cl.Centers.requires_grad);

        // second batch: [3,4] of class 0 sits on its centre: loss 0 and the centre stays.
        var loss2 = cl.forward(tensor(new float[] { 3, 4 }).reshape(1, 2), tensor(new long[] { 0 }));
        Assert.Equal(0f, loss2.item<float>());
        Assert.Equal(new float[] { 3, 4, 1.5f, 2 }, cl.Centers.data<float>().ToArray());
    }

    [Fact]
    public void Center_loss_in_eval_mode_leaves_the_centres_and_state_dict_holds_them()
    {
        using var scope = NewDisposeScope();
        using var cl = new CenterLoss(3, 4, 0.95);
        cl.eval();
        var loss = cl.forward(ones(2, 4), tensor(new long[] { 1, 2 }));
        Assert.Equal(1f, loss.item<float>());
        Assert.Equal(0f, cl.Centers.abs().sum().item<float>());
        var sd = cl.state_dict();
        Assert.Equal(new long[] { 3, 4 }, sd["centers"].shape);
    }

    [Fact]
    public void Center_loss_leaks_no_tensors()
    {
        using var cl = new CenterLoss(2, 2, 0.5);
        using var f = ones(4, 2);
        using var y = tensor(new long[] { 0, 1, 1, 0 });
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            using var l = cl.forward(f, y);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Triplet_loss_by_hand()
    {
        using var scope = NewDisposeScope();
        // triplet 0: a=[0,0], p=[1,0] (d=1), n=[0,2] (d=4): 1-4+0.5 < 0 -> 0
        // triplet 1: a=[0,0], p=[0,1] (d=1), n=[1,0] (d=1): 1-1+0.5 = 0.5
        var a = tensor(new float[] { 0, 0, 0, 0 }).reshape(2, 2);
        var p = tensor(new float[] { 1, 0, 0, 1 }).reshape(2, 2);
        var n = tensor(new float[] { 0, 2, 1, 0 }).reshape(2, 2);
        Assert.Equal(0.25f, TripletLoss.Compute(a, p, n, 0.5).item<float>(), 6);
        // the same triplets interleaved a0 p0 n0 a1 p1 n1
        var inter = stack([a[0], p[0], n[0], a[1], p[1], n[1]]);
        Assert.Equal(0.25f, TripletLoss.ComputeInterleaved(inter, 0.5).item<float>(), 6);
    }

    [Fact]
    public void Triplet_selection_by_hand()
    {
        // 1-D embeddings: person A rows 0,1 at 0 and 1; person B rows 2,3 at 1.1 and 5; person C row 4 at 3.
        float[] e = [0f, 1f, 1.1f, 5f, 3f];
        int[] perClass = [2, 2, 1];
        // Pairs: (0,1) pos 1: negatives 2 (1.21-1<0.5 yes), 3 (25-1 no), 4 (9-1 no) -> n = 2 always.
        //        (2,3) pos 3.9^2=15.21: from 2: 0 (1.21), 1 (0.01), 4 (3.61) all < alpha+15.21 -> one of {0,1,4}.
        // C has one image: no pair. 2 pairs examined.
        for (int seed = 0; seed < 20; seed++)
        {
            var r = TripletSelection.Select(e, 1, perClass, 0.5, new Random(seed));
            Assert.Equal(2, r.AnchorPositivePairs);
            Assert.Equal(2, r.Triplets.Count);
            Assert.Contains(new Triplet(0, 1, 2), r.Triplets);
            var t = r.Triplets.Single(x => x.Anchor == 2);
            Assert.Equal(3, t.Positive);
            Assert.Contains(t.Negative, new[] { 0, 1, 4 });
        }
        // Every allowed negative of (2,3) gets picked for some seed.
        var seen = Enumerable.Range(0, 60).Select(s => TripletSelection.Select(e, 1, perClass, 0.5, new Random(s)).Triplets.Single(x => x.Anchor == 2).Negative).ToHashSet();
        Assert.Equal(new HashSet<int> { 0, 1, 4 }, seen);

        // Semi-hard (FaceNet paper): n must also be farther than p. (0,1): 1.21 > 1 -> 2 stays.
        // (2,3): all candidate distances < 15.21 -> none: that pair is skipped.
        var semi = TripletSelection.Select(e, 1, perClass, 0.5, new Random(1), semiHardOnly: true);
        Assert.Equal(2, semi.AnchorPositivePairs);
        Assert.Equal([new Triplet(0, 1, 2)], semi.Triplets);
    }

    [Fact]
    public void Triplet_selection_skips_pairs_without_a_violating_negative()
    {
        // A at 0,0.1; B at 10,10.1: every negative is far beyond the margin.
        float[] e = [0f, 0.1f, 10f, 10.1f];
        var r = TripletSelection.Select(e, 1, [2, 2], 0.2, new Random(3));
        Assert.Equal(2, r.AnchorPositivePairs);
        Assert.Empty(r.Triplets);
        Assert.Throws<ArgumentException>(() => TripletSelection.Select(e, 1, [2, 3], 0.2, new Random(3)));
    }
}
