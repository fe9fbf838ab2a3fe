using FaceNetSharp.Evaluation;

namespace FaceNetSharp.Tests.Evaluation;

public sealed class VerificationMetricsTests
{
    private const double Tol = 1e-12;

    // Eight pairs, two folds. KFold(2, shuffle=False) puts pairs 0-3 in fold 0 and 4-7 in fold 1.
    // Distances sit off both threshold grids (0.01 and 0.001 steps) so no comparison is a tie.
    //   fold 0: same 0.1055, 0.2555   different 0.2055, 0.4055
    //   fold 1: same 0.1555, 0.3555   different 0.3055, 0.5055
    private static readonly double[] HandDistances = [0.1055, 0.2555, 0.2055, 0.4055, 0.1555, 0.3555, 0.3055, 0.5055];
    private static readonly bool[] HandSame = [true, true, false, false, true, true, false, false];

    [Fact]
    public void KFoldMirrorsSklearnContiguousBlocks()
    {
        // sklearn KFold(3) on 10 samples: test blocks of 4, 3, 3 (the first n % k blocks one larger)
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], VerificationMetrics.Folds(10, 3, null));
        Assert.Throws<ArgumentException>(() => VerificationMetrics.Folds(3, 4, null));
        Assert.Throws<ArgumentException>(() => VerificationMetrics.Folds(4, 2, [0, 0, 0, 0])); // fold 1 empty
        Assert.Throws<ArgumentException>(() => VerificationMetrics.Folds(2, 2, [0, 2]));
    }

    [Fact]
    public void HandComputedAccuracyAndThresholdSelection()
    {
        var r = LfwEvaluation.Evaluate(HandDistances, HandSame, folds: 2);

        // Fold 0 is tested, fold 1 trains (same 0.1555, 0.3555; different 0.3055, 0.5055). Training accuracy of d < t:
        //   t <= 0.15: 2/4;  0.16..0.30: 3/4 (0.1555 accepted);  0.31..0.35: 2/4;  0.36..0.50: 3/4;  >= 0.51: 2/4.
        //   First argmax (np.argmax) -> t = 0.16. On fold 0: 0.1055 accepted (tp), 0.2555 rejected (fn),
        //   both different rejected (tn) -> 3/4.
        // Fold 1 is tested, fold 0 trains: 0.11..0.20 gives 3/4 first -> t = 0.11. On fold 1: both same rejected,
        //   both different rejected -> 2/4.
        Assert.Equal([0.75, 0.5], r.FoldAccuracies);
        Assert.Equal(0.16, r.FoldThresholds[0], Tol);
        Assert.Equal(0.11, r.FoldThresholds[1], Tol);
        Assert.Equal(0.625, r.Accuracy, Tol);
        Assert.Equal(0.125, r.AccuracyStd, Tol); // population std of {0.75, 0.5}
        Assert.Equal(0.135, r.BestThreshold, Tol);
        Assert.Equal(8, r.PairsUsed);
        Assert.Equal(4, r.SamePairs);
        Assert.Equal(4, r.DifferentPairs);
    }

    [Fact]
    public void HandComputedRocAucAndEer()
    {
        var r = LfwEvaluation.Evaluate(HandDistances, HandSame, folds: 2);

        // Test-fold (tpr, fpr) by threshold, then the mean over the two folds:
        //   t        fold 0       fold 1       mean
        //   0-0.10   (0, 0)       (0, 0)       (0,    0)
        //   0.11-15  (.5, 0)      (0, 0)       (0.25, 0)
        //   0.16-20  (.5, 0)      (.5, 0)      (0.5,  0)
        //   0.21-25  (.5, .5)     (.5, 0)      (0.5,  0.25)
        //   0.26-30  (1, .5)      (.5, 0)      (0.75, 0.25)
        //   0.31-35  (1, .5)      (.5, .5)     (0.75, 0.5)
        //   0.36-40  (1, .5)      (1, .5)      (1,    0.5)
        //   0.41-50  (1, 1)       (1, .5)      (1,    0.75)
        //   0.51-    (1, 1)       (1, 1)       (1,    1)
        Assert.Equal(400, r.RocThresholds.Length);
        (double tpr, double fpr)[] expected =
        [
            (0, 0), (0.25, 0), (0.5, 0), (0.5, 0.25), (0.75, 0.25), (0.75, 0.5), (1, 0.5), (1, 0.75), (1, 1),
        ];
        int[] at = [5, 13, 18, 23, 28, 33, 38, 45, 100]; // a threshold index inside each band (t = index * 0.01)
        for (int i = 0; i < at.Length; i++)
        {
            Assert.Equal(expected[i].tpr, r.Tpr[at[i]], Tol);
            Assert.Equal(expected[i].fpr, r.Fpr[at[i]], Tol);
        }

        // Trapezoid: only steps where fpr grows add area:
        //   0 -> 0.25 at tpr 0.5: 0.125;  0.25 -> 0.5 at tpr 0.75: 0.1875;  0.5 -> 0.75 and 0.75 -> 1 at tpr 1: 0.25 + 0.25.
        Assert.Equal(0.8125, r.Auc, Tol);

        // EER: g(x) = 1 - x - TPR(x), TPR interpolated as np.interp (at a repeated FPR the last point counts).
        //   On [0, 0.25) TPR = 0.5, g = 0.5 - x > 0; at 0.25 TPR jumps to 0.75, g = 0. So EER = 0.25.
        Assert.Equal(0.25, r.Eer, 1e-12);
    }

    [Fact]
    public void HandComputedValAtFarWithInterpolation()
    {
        var r = LfwEvaluation.Evaluate(HandDistances, HandSame, folds: 2, farTarget: 1e-3);

        // VAL grid t = i * 0.001. Fold 0 trains on fold 1's different pairs 0.3055, 0.5055:
        //   far_train = 0 for i <= 305, 0.5 for 306..505, 1 from 506.
        //   interp1d(slinear) at 1e-3: between (0, 0.305) and (0.5, 0.306) -> 0.305 + 0.001 * (1e-3 / 0.5) = 0.305002.
        //   On fold 0: same 0.1055, 0.2555 accepted -> val 1; different 0.2055 accepted, 0.4055 not -> far 0.5.
        // Fold 1 trains on 0.2055, 0.4055: threshold 0.205002. On fold 1: same 0.1555 only -> val 0.5; far 0.
        Assert.Equal(0.75, r.Val, Tol);
        Assert.Equal(0.25, r.ValStd, Tol);
        Assert.Equal(0.25, r.Far, Tol);
        Assert.Equal(1e-3, r.FarTarget);

        // The interpolation itself, on fold 1's training FARs:
        var far = VerificationMetrics.ValThresholds.Select(t => t < 0.3055 ? 0.0 : t < 0.5055 ? 0.5 : 1.0).ToArray();
        Assert.Equal(0.305002, VerificationMetrics.InterpolateThreshold(far, VerificationMetrics.ValThresholds, 1e-3), 1e-12);
        // a target equal to a repeated FAR takes the last threshold with that FAR (0.505), as scipy's B-spline does
        Assert.Equal(0.505, VerificationMetrics.InterpolateThreshold(far, VerificationMetrics.ValThresholds, 0.5), 1e-12);
        // halfway between the FAR steps 0.5 (t = 0.505) and 1 (t = 0.506)
        Assert.Equal(0.5055, VerificationMetrics.InterpolateThreshold(far, VerificationMetrics.ValThresholds, 0.75), 1e-12);
    }

    [Fact]
    public void ValTargetEqualToARepeatedFarUsesTheLastThresholdWithIt()
    {
        var r = LfwEvaluation.Evaluate(HandDistances, HandSame, folds: 2, farTarget: 0.5);
        // Fold 0: far_train = 0.5 for t = 0.306..0.505 -> threshold 0.505: val 1, far 1 (0.2055 and 0.4055 accepted).
        // Fold 1: far_train = 0.5 for t = 0.206..0.405 -> threshold 0.405: val 1, far 0.5 (0.3055 accepted).
        Assert.Equal(1.0, r.Val, Tol);
        Assert.Equal(0.75, r.Far, Tol);
    }

    [Fact]
    public void ValIsZeroWhenTheTrainingFarNeverReachesTheTarget()
    {
        // different pairs at 5 lie beyond the grid (< 4), so far_train is 0 everywhere: facenet sets threshold 0
        double[] d = [0.1, 5, 0.2, 5, 0.3, 5, 0.4, 5];
        bool[] same = [true, false, true, false, true, false, true, false];
        var r = LfwEvaluation.Evaluate(d, same, folds: 2);
        Assert.Equal(0.0, r.Val);
        Assert.Equal(0.0, r.Far);
    }

    [Fact]
    public void TarAtFarUsesExactThresholdsAndReportsNaWhenTooFewNegatives()
    {
        // 200 different pairs at 1.00, 1.01, ..., 2.99; FAR 1e-2 allows floor(0.01 * 200) = 2 false accepts, so the
        // threshold is the third smallest (1.02) and 1.00, 1.01 lie below it. Same pairs below 1.02: 0.5, 1.015, 1.019 -> 3/4.
        // FAR 1e-3 and 1e-4 would need 1,000 and 10,000 different pairs -> n/a.
        var d = new List<double> { 0.5, 1.015, 1.5, 1.019 };
        var same = new List<bool> { true, true, true, true };
        for (int i = 0; i < 200; i++) { d.Add(1 + i * 0.01); same.Add(false); }

        var tar = VerificationMetrics.TarAtFars(d.ToArray(), same.ToArray(), VerificationMetrics.TarFars);

        Assert.Equal([1e-2, 1e-3, 1e-4], tar.Keys);
        Assert.Equal(0.75, tar[1e-2]!.Value, Tol);
        Assert.Null(tar[1e-3]);
        Assert.Null(tar[1e-4]);
    }

    [Fact]
    public void PerfectlySeparableGivesAccuracyOneAucOneEerZero()
    {
        var rng = new Random(1234);
        int n = 600;
        var same = Enumerable.Range(0, n).Select(i => (i / 30) % 2 == 0).ToArray();
        var d = same.Select(s => s ? rng.NextDouble() * 0.9 : 1.1 + rng.NextDouble() * 0.9).ToArray();

        var r = LfwEvaluation.Evaluate(d, same, folds: 10);

        Assert.Equal(1.0, r.Accuracy);
        Assert.Equal(0.0, r.AccuracyStd);
        Assert.Equal(1.0, r.Auc, Tol);
        Assert.Equal(0.0, r.Eer);
        Assert.InRange(r.BestThreshold, 0.9, 1.1);
        // The FAR-1e-3 threshold is interpolated just below the smallest training different-pair distance (about
        // 1.1), so every same pair is accepted; a test fold's own smallest different pair may fall below it.
        Assert.Equal(1.0, r.Val);
        Assert.InRange(r.Far, 0.0, 0.01);
        Assert.Equal(1.0, r.TarAtFar[1e-2]);
        Assert.Null(r.TarAtFar[1e-3]); // 300 different pairs < 1,000
    }

    [Fact]
    public void ReversedGivesAucZero()
    {
        var rng = new Random(99);
        int n = 600;
        var same = Enumerable.Range(0, n).Select(i => i % 2 == 0).ToArray();
        var d = same.Select(s => s ? 1.1 + rng.NextDouble() * 0.9 : rng.NextDouble() * 0.9).ToArray();

        var r = LfwEvaluation.Evaluate(d, same, folds: 10);

        Assert.Equal(0.0, r.Auc, Tol);
        Assert.Equal(1.0, r.Eer, 1e-12); // TPR stays 0 until FPR 1: 1 - x - 0 reaches 0 at x = 1
        Assert.Equal(0.5, r.Accuracy, Tol); // best is to reject everything (threshold 0)
    }

    [Fact]
    public void RandomScoresGiveAboutHalf()
    {
        var rng = new Random(20240601);
        int n = 6000;
        var same = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0).ToArray();
        var d = same.Select(_ => rng.NextDouble() * 2).ToArray();

        var r = LfwEvaluation.Evaluate(d, same, folds: 10);

        Assert.InRange(r.Auc, 0.47, 0.53);
        Assert.InRange(r.Eer, 0.46, 0.54);
        Assert.InRange(r.Accuracy, 0.45, 0.55);
        Assert.InRange(r.Val, 0.0, 0.01); // TAR at FAR 1e-3 of a random score is about 1e-3
    }

    [Fact]
    public void EerInterpolatesWithinASegment()
    {
        // Curve (0,0) -> (0,0.2) -> (1,1): on [0,1] TPR = 0.2 + 0.8x; 1 - x = 0.2 + 0.8x -> x = 0.8 / 1.8 = 4/9.
        Assert.Equal(4.0 / 9.0, VerificationMetrics.EqualErrorRate([0, 0, 1], [0, 0.2, 1]), 1e-12);
        // np.interp at a repeated x takes the last point: at x = 0.5, TPR = 0.9
        Assert.Equal(0.9, VerificationMetrics.Interp(0.5, [0, 0.5, 0.5, 1], [0, 0.1, 0.9, 1]), Tol);
        Assert.Equal(0.05, VerificationMetrics.Interp(0.25, [0, 0.5, 0.5, 1], [0, 0.1, 0.9, 1]), Tol);
    }

    [Fact]
    public void InputsAreChecked()
    {
        Assert.Throws<ArgumentException>(() => LfwEvaluation.Evaluate([0.1, 0.2], [true], folds: 2));
        Assert.Throws<ArgumentException>(() => LfwEvaluation.Evaluate([0.1, 0.2], [true, false], folds: 1));
        Assert.Throws<ArgumentException>(() => LfwEvaluation.Evaluate(
            [new float[] { 1, 0 }, new float[] { 1, 0 }], [new float[] { 1, 0 }, new float[] { 1 }], [true, false], folds: 2));
    }
}
