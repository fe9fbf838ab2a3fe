namespace FaceNetSharp.Evaluation;

/// <summary>The computations behind <see cref="LfwEvaluation"/>, one function per facenet function.</summary>
internal static class VerificationMetrics
{
    /// <summary>facenet lfw.py evaluate: <c>thresholds = np.arange(0, 4, 0.01)</c> for the ROC and accuracy (400 values, i * 0.01).</summary>
    internal static readonly double[] RocThresholds = Arange(400, 0.01);

    /// <summary>facenet lfw.py evaluate: <c>thresholds = np.arange(0, 4, 0.001)</c> for VAL (4000 values, i * 0.001).</summary>
    internal static readonly double[] ValThresholds = Arange(4000, 0.001);

    /// <summary>FARs at which TAR is reported on all pairs (common face-verification operating points).</summary>
    internal static readonly double[] TarFars = [1e-2, 1e-3, 1e-4];

    // numpy arange fills value[i] = start + i * step.
    private static double[] Arange(int count, double step)
    {
        var r = new double[count];
        for (int i = 0; i < count; i++) r[i] = i * step;
        return r;
    }

    /// <summary>
    /// Fold of each pair: sklearn <c>KFold(n_splits=k, shuffle=False)</c> (contiguous blocks, the first <c>n % k</c> of
    /// size <c>n / k + 1</c>), or the caller's assignment after checking it.
    /// </summary>
    internal static int[] Folds(int n, int k, IReadOnlyList<int>? assignment)
    {
        if (k < 2) throw new ArgumentException($"need at least 2 folds, got {k}");
        int[] foldOf;
        if (assignment is null)
        {
            if (k > n) throw new ArgumentException($"cannot split {n} pairs into {k} folds");
            foldOf = new int[n];
            int start = 0;
            for (int f = 0; f < k; f++)
            {
                int size = n / k + (f < n % k ? 1 : 0);
                for (int i = start; i < start + size; i++) foldOf[i] = f;
                start += size;
            }
            return foldOf;
        }
        if (assignment.Count != n) throw new ArgumentException($"fold assignment has {assignment.Count} entries for {n} pairs");
        foldOf = assignment.ToArray();
        var counts = new int[k];
        foreach (int f in foldOf)
        {
            if ((uint)f >= (uint)k) throw new ArgumentException($"fold {f} is outside 0..{k - 1}");
            counts[f]++;
        }
        int empty = Array.IndexOf(counts, 0);
        if (empty >= 0) throw new ArgumentException($"fold {empty} has no pairs");
        return foldOf;
    }

    /// <summary>Counts of "predicted same" (distance &lt; threshold) among same and different pairs of one subset.</summary>
    internal sealed class SortedSubset
    {
        private readonly double[] _same;
        private readonly double[] _diff;

        public SortedSubset(double[] distances, bool[] same, IEnumerable<int> indices)
        {
            var s = new List<double>();
            var d = new List<double>();
            foreach (int i in indices) (same[i] ? s : d).Add(NaNAsInfinity(distances[i]));
            _same = s.ToArray();
            _diff = d.ToArray();
            Array.Sort(_same);
            Array.Sort(_diff);
        }

        public int SameCount => _same.Length;
        public int DiffCount => _diff.Length;
        public int Count => _same.Length + _diff.Length;

        /// <summary>True accepts (same pairs with distance &lt; t).</summary>
        public int TruePositives(double t) => CountBelow(_same, t);

        /// <summary>False accepts (different pairs with distance &lt; t).</summary>
        public int FalsePositives(double t) => CountBelow(_diff, t);

        /// <summary>facenet calculate_accuracy: (tpr, fpr, acc); a rate with an empty denominator is 0, as there.</summary>
        public (double Tpr, double Fpr, double Acc) Accuracy(double t)
        {
            int tp = TruePositives(t), fp = FalsePositives(t);
            int tn = DiffCount - fp;
            double tpr = SameCount == 0 ? 0 : (double)tp / SameCount;
            double fpr = DiffCount == 0 ? 0 : (double)fp / DiffCount;
            return (tpr, fpr, (double)(tp + tn) / Count);
        }

        /// <summary>
        /// facenet calculate_val_far: (val, far). facenet divides by zero (and stops) when the subset has no same or no
        /// different pairs; we return 0 for that rate.
        /// </summary>
        public (double Val, double Far) ValFar(double t)
        {
            var (tpr, fpr, _) = Accuracy(t);   // the same two rates, with the same empty-denominator rule
            return (tpr, fpr);
        }

        /// <summary>Correct decisions (tp + tn) at threshold t.</summary>
        public int Correct(double t) => TruePositives(t) + DiffCount - FalsePositives(t);

        // number of sorted values strictly below t
        private static int CountBelow(double[] sorted, double t)
        {
            int lo = 0, hi = sorted.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (sorted[mid] < t) lo = mid + 1; else hi = mid;
            }
            return lo;
        }
    }

    internal static VerificationReport Compute(
        Func<int, double[]> distancesForFold, double[] allDistances, bool[] same, int[] foldOf, int folds,
        double farTarget, bool singlePrecisionDistances)
    {
        int n = same.Length;
        // numpy compares a float32 distance array with a python-float threshold in float32 (value-based casting).
        var rocCompare = singlePrecisionDistances ? RocThresholds.Select(t => (double)(float)t).ToArray() : RocThresholds;
        int nt = RocThresholds.Length;

        var tprSum = new double[nt];
        var fprSum = new double[nt];
        var accuracies = new double[folds];
        var bestThresholds = new double[folds];
        var vals = new double[folds];
        var fars = new double[folds];
        var farTrain = new double[ValThresholds.Length];

        for (int f = 0; f < folds; f++)
        {
            var dist = distancesForFold(f);
            var train = new SortedSubset(dist, same, Enumerable.Range(0, n).Where(i => foldOf[i] != f));
            var test = new SortedSubset(dist, same, Enumerable.Range(0, n).Where(i => foldOf[i] == f));
            if (train.Count == 0) throw new ArgumentException($"fold {f} leaves no training pairs");

            // facenet calculate_roc: best threshold = first argmax of training accuracy (all on one subset, so compare counts).
            int best = 0, bestCorrect = -1;
            for (int t = 0; t < nt; t++)
            {
                int correct = train.Correct(rocCompare[t]);
                if (correct > bestCorrect) { bestCorrect = correct; best = t; }
                var (tpr, fpr, _) = test.Accuracy(rocCompare[t]);
                tprSum[t] += tpr;
                fprSum[t] += fpr;
            }
            bestThresholds[f] = RocThresholds[best];
            accuracies[f] = test.Accuracy(rocCompare[best]).Acc;

            // facenet calculate_val: threshold where the training FAR reaches the target, else 0.
            double max = 0;
            for (int t = 0; t < ValThresholds.Length; t++)
            {
                farTrain[t] = train.ValFar(ValThresholds[t]).Far;
                max = Math.Max(max, farTrain[t]);
            }
            double threshold = max >= farTarget ? InterpolateThreshold(farTrain, ValThresholds, farTarget) : 0.0;
            (vals[f], fars[f]) = test.ValFar(threshold);
        }

        var tprMean = tprSum.Select(s => s / folds).ToArray();
        var fprMean = fprSum.Select(s => s / folds).ToArray();
        int sameCount = same.Count(s => s);

        return new VerificationReport(
            Accuracy: accuracies.Average(),
            AccuracyStd: PopulationStd(accuracies),
            FoldAccuracies: accuracies,
            FoldThresholds: bestThresholds,
            BestThreshold: bestThresholds.Average(),
            Val: vals.Average(),
            ValStd: PopulationStd(vals),
            Far: fars.Average(),
            FarTarget: farTarget,
            Auc: Trapezoid(fprMean, tprMean),
            Eer: EqualErrorRate(fprMean, tprMean),
            RocThresholds: (double[])RocThresholds.Clone(),
            Fpr: fprMean,
            Tpr: tprMean,
            TarAtFar: TarAtFars(allDistances, same, TarFars),
            PairsUsed: n,
            SamePairs: sameCount,
            DifferentPairs: n - sameCount,
            Folds: folds);
    }

    // A NaN distance (cosine of a zero vector) is never below a threshold (np.less gives False), like +inf; mapping it
    // keeps the sorted arrays ordered (.NET sorts NaN first).
    private static double NaNAsInfinity(double d) => double.IsNaN(d) ? double.PositiveInfinity : d;

    internal static double PopulationStd(double[] x)
    {
        double mean = x.Average();
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / x.Length);
    }

    /// <summary>
    /// scipy <c>interp1d(far, thresholds, kind='slinear')(target)</c> for a non-decreasing <paramref name="far"/> with
    /// repeated values, as facenet calculate_val uses it. The linear B-spline interpolates between the LAST index j with
    /// <c>far[j] &lt;= target</c> and j + 1 (so a target equal to a repeated FAR gives the largest threshold with that FAR).
    /// Two edges where scipy differs: a target equal to the largest FAR when it repeats gives scipy 0 (a zero-length
    /// interval); we give the last threshold, consistent with the rule. A target below the first FAR raises in scipy;
    /// we give the first threshold (unreachable with facenet's grid, whose first threshold 0 has FAR 0).
    /// </summary>
    internal static double InterpolateThreshold(double[] far, double[] thresholds, double target)
    {
        if (target < far[0]) return thresholds[0];
        int lo = 0, hi = far.Length; // first index with far > target
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (far[mid] <= target) lo = mid + 1; else hi = mid;
        }
        int j = lo - 1;
        if (j == far.Length - 1) return thresholds[j];
        return thresholds[j] + (target - far[j]) / (far[j + 1] - far[j]) * (thresholds[j + 1] - thresholds[j]);
    }

    /// <summary>Area by the trapezoid rule over points in the given order (sklearn <c>auc</c> for a non-decreasing x).</summary>
    internal static double Trapezoid(double[] x, double[] y)
    {
        double area = 0;
        for (int i = 1; i < x.Length; i++) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2;
        return area;
    }

    /// <summary>
    /// numpy <c>np.interp(x, xp, fp)</c> for a non-decreasing <paramref name="xp"/>: with repeated xp the value at x is that
    /// of the last repeat, between them the line from the last repeat to the next point. Outside [xp[0], xp[^1]] it
    /// clamps (scipy's interp1d, which facenet's EER uses, would raise there; that only happens when the ROC grid
    /// does not reach FPR 1).
    /// </summary>
    internal static double Interp(double x, double[] xp, double[] fp)
    {
        int last = xp.Length - 1;
        if (x < xp[0]) return fp[0];
        if (x >= xp[last]) return fp[last];
        int lo = 0, hi = xp.Length; // first index with xp > x
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (xp[mid] <= x) lo = mid + 1; else hi = mid;
        }
        int j = lo - 1;
        if (xp[j] == x) return fp[j];
        double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        return slope * (x - xp[j]) + fp[j];
    }

    /// <summary>
    /// validate_on_lfw.py: <c>brentq(lambda x: 1. - x - interpolate.interp1d(fpr, tpr)(x), 0., 1.)</c>. The function
    /// is strictly decreasing (TPR never falls as FPR grows) but jumps where the curve is vertical, so we bisect for
    /// the sign change instead of a secant method; it converges to the same point brentq does (to ~1e-16). When
    /// g(0) = 0 (TPR 1 at FPR 0) the EER is 0; when g(1) = 0 (TPR 0 up to FPR 1) it is 1, as brentq returns an
    /// endpoint that is a root.
    /// </summary>
    internal static double EqualErrorRate(double[] fpr, double[] tpr)
    {
        double G(double x) => 1.0 - x - Interp(x, fpr, tpr);
        double lo = 0.0, hi = 1.0;
        if (G(lo) <= 0) return lo;
        if (G(hi) >= 0) return hi;
        for (int i = 0; i < 200 && hi - lo > 0; i++)
        {
            double mid = lo + (hi - lo) / 2;
            if (mid <= lo || mid >= hi) break;
            if (G(mid) > 0) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /// <summary>
    /// TAR at each FAR on all pairs. With the N different-pair distances sorted ascending, the threshold is the
    /// (floor(FAR * N) + 1)-th smallest, so that at most floor(FAR * N) different pairs lie strictly below it (fewer with
    /// ties); TAR is the share of same pairs strictly below it. Null where N &lt; 1 / FAR, where no false accept is
    /// allowed at all and the figure would say nothing about that FAR.
    /// </summary>
    internal static IReadOnlyDictionary<double, double?> TarAtFars(double[] distances, bool[] same, double[] fars)
    {
        var diff = distances.Where((_, i) => !same[i]).Select(NaNAsInfinity).Order().ToArray();
        var positives = distances.Where((_, i) => same[i]).Select(NaNAsInfinity).ToArray();
        var result = new SortedDictionary<double, double?>(Comparer<double>.Create((a, b) => b.CompareTo(a)));
        foreach (double far in fars)
        {
            // 1e-9 absorbs rounding in FAR * N (e.g. 1e-3 * 1000).
            double allowed = far * diff.Length;
            if (positives.Length == 0 || allowed < 1 - 1e-9) { result[far] = null; continue; }
            int k = (int)Math.Floor(allowed + 1e-9);
            if (k >= diff.Length) { result[far] = 1.0; continue; }
            double threshold = diff[k];
            int accepted = positives.Count(d => d < threshold);
            result[far] = (double)accepted / positives.Length;
        }
        return result;
    }
}
