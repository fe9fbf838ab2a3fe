using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>What <see cref="ThresholdCalibration"/> optimises.</summary>
public enum ThresholdObjective
{
    /// <summary>
    /// The largest threshold whose false-accept rate is at most the target: as many genuine faces accepted as the
    /// allowed rate of strangers taken for someone permits. The right choice when a wrong name costs more than a
    /// missed one (access control, tagging photos).
    /// </summary>
    TargetFalseAcceptRate,

    /// <summary>
    /// The threshold with the best balanced accuracy, 1 - (FAR + FRR) / 2, the smallest such on a tie: strangers and
    /// enrolled people weigh the same, whatever their numbers.
    /// </summary>
    BestBalancedAccuracy,
}

/// <summary>
/// An open-set threshold chosen from labelled training embeddings by leave-one-out, and how it does on them.
/// </summary>
/// <remarks>
/// Each training face is matched against the rest. Its <em>genuine</em> distance is to its own class without it
/// (the nearest other face of its class, or its class's centre computed without it); faces alone in their class
/// have none. Its <em>impostor</em> distance is to the best other class (nearest face or centre), which is what the
/// classifier would see if the face's person were not enrolled: a stranger. A face is accepted when its distance is
/// below the threshold, so FAR = impostor distances below it / impostors and FRR = genuine distances at or above it /
/// genuine. Candidate thresholds lie halfway between consecutive distinct distances (also at the smallest distance,
/// accepting none, and just above the largest, accepting all). Few training faces give coarse rates: a target FAR of
/// 0.001 needs well over 1000 impostor distances to mean anything.
/// </remarks>
/// <param name="Threshold">The chosen threshold, in the metric's units.</param>
/// <param name="Metric">The metric of the distances.</param>
/// <param name="FalseAcceptRate">Impostor distances below the threshold, as a fraction of all impostors.</param>
/// <param name="FalseRejectRate">Genuine distances at or above the threshold, as a fraction of all genuine.</param>
/// <param name="GenuineCount">How many genuine distances there were.</param>
/// <param name="ImpostorCount">How many impostor distances there were.</param>
public sealed record ThresholdCalibration(
    float Threshold, EmbeddingMetric Metric, double FalseAcceptRate, double FalseRejectRate, int GenuineCount, int ImpostorCount)
{
    /// <summary>1 - (FAR + FRR) / 2 at <see cref="Threshold"/>.</summary>
    public double BalancedAccuracy => 1 - (FalseAcceptRate + FalseRejectRate) / 2;

    /// <summary>Calibrates for nearest-face matching (<see cref="KNearestClassifier"/>, <see cref="FaceGallery.Identify"/>).</summary>
    /// <param name="samples">Labelled embeddings: at least two classes and one class with two faces.</param>
    /// <param name="metric">The metric the threshold will be used with.</param>
    /// <param name="objective">What to optimise.</param>
    /// <param name="targetFalseAcceptRate">For <see cref="ThresholdObjective.TargetFalseAcceptRate"/>, in [0, 1].</param>
    public static ThresholdCalibration ForNearestNeighbour(IEnumerable<(string Label, float[] Vector)> samples,
        EmbeddingMetric metric, ThresholdObjective objective, double targetFalseAcceptRate = 0.01)
    {
        var (rows, labels, dims) = Prepare(samples);
        int n = labels.Length;
        // each face's most similar other face of its own class and of another class; every pair's dot product once
        var bestSame = new float[n];
        var bestOther = new float[n];
        Array.Fill(bestSame, float.NegativeInfinity);
        Array.Fill(bestOther, float.NegativeInfinity);
        for (int i = 0; i < n; i++)
        {
            var a = rows.AsSpan(i * dims, dims);
            for (int j = i + 1; j < n; j++)
            {
                float dot = TensorPrimitives.Dot(a, rows.AsSpan(j * dims, dims));
                var best = labels[j] == labels[i] ? bestSame : bestOther;
                best[i] = Math.Max(best[i], dot);
                best[j] = Math.Max(best[j], dot);
            }
        }
        var genuine = new List<float>();
        var impostor = new List<float>();
        for (int i = 0; i < n; i++)
        {
            if (!float.IsNegativeInfinity(bestSame[i])) genuine.Add(VectorMath.DistanceFromDot(bestSame[i], metric));
            if (!float.IsNegativeInfinity(bestOther[i])) impostor.Add(VectorMath.DistanceFromDot(bestOther[i], metric));
        }
        return FromDistances(genuine, impostor, metric, objective, targetFalseAcceptRate);
    }

    /// <summary>Calibrates for <see cref="NearestCentreClassifier"/> (centres of unit vectors, re-normalised).</summary>
    /// <inheritdoc cref="ForNearestNeighbour"/>
    public static ThresholdCalibration ForNearestCentre(IEnumerable<(string Label, float[] Vector)> samples,
        EmbeddingMetric metric, ThresholdObjective objective, double targetFalseAcceptRate = 0.01)
    {
        var (rows, labels, dims) = Prepare(samples);
        int classes = labels.Max() + 1;
        var sums = new float[classes * dims];
        var counts = new int[classes];
        for (int i = 0; i < labels.Length; i++)
        {
            var sum = sums.AsSpan(labels[i] * dims, dims);
            TensorPrimitives.Add(sum, rows.AsSpan(i * dims, dims), sum);
            counts[labels[i]]++;
        }
        var centres = ClassifierData.Centres(classes, rows, labels, dims);
        var genuine = new List<float>();
        var impostor = new List<float>();
        var without = new float[dims];
        for (int i = 0; i < labels.Length; i++)
        {
            var a = rows.AsSpan(i * dims, dims);
            int c = labels[i];
            if (counts[c] >= 2)
            {
                TensorPrimitives.Subtract(sums.AsSpan(c * dims, dims), a, without);
                float norm = TensorPrimitives.Norm(without);
                // Two opposite faces leave a zero centre: no direction, so no genuine distance to measure.
                if (norm > 0) genuine.Add(VectorMath.DistanceFromDot(TensorPrimitives.Dot(a, without) / norm, metric));
            }
            float bestOther = float.NegativeInfinity;
            for (int o = 0; o < classes; o++)
                if (o != c) bestOther = Math.Max(bestOther, TensorPrimitives.Dot(a, centres.AsSpan(o * dims, dims)));
            if (!float.IsNegativeInfinity(bestOther)) impostor.Add(VectorMath.DistanceFromDot(bestOther, metric));
        }
        return FromDistances(genuine, impostor, metric, objective, targetFalseAcceptRate);
    }

    /// <summary>Chooses a threshold from genuine and impostor distances measured elsewhere (see the remarks).</summary>
    public static ThresholdCalibration FromDistances(IReadOnlyCollection<float> genuine, IReadOnlyCollection<float> impostor,
        EmbeddingMetric metric, ThresholdObjective objective, double targetFalseAcceptRate = 0.01)
    {
        ArgumentNullException.ThrowIfNull(genuine);
        ArgumentNullException.ThrowIfNull(impostor);
        if (genuine.Count == 0) throw new ArgumentException("no genuine distances: calibration needs a class with two faces");
        if (impostor.Count == 0) throw new ArgumentException("no impostor distances: calibration needs two classes");
        if (targetFalseAcceptRate is < 0 or > 1 || double.IsNaN(targetFalseAcceptRate))
            throw new ArgumentOutOfRangeException(nameof(targetFalseAcceptRate), targetFalseAcceptRate, "must be in [0, 1]");
        var g = genuine.Order().ToArray();
        var im = impostor.Order().ToArray();
        if (!float.IsFinite(g[0]) || !float.IsFinite(g[^1]) || !float.IsFinite(im[0]) || !float.IsFinite(im[^1]))
            throw new ArgumentException("distances must be finite");

        var all = g.Concat(im).Distinct().Order().ToArray();
        var candidates = new List<float>(all.Length + 1) { all[0] };
        for (int i = 1; i < all.Length; i++) candidates.Add(all[i - 1] + (all[i] - all[i - 1]) / 2);
        candidates.Add(MathF.BitIncrement(all[^1]));

        ThresholdCalibration? best = null;
        int gi = 0, ii = 0; // genuine / impostor distances below the candidate, candidates ascending
        foreach (float t in candidates)
        {
            while (gi < g.Length && g[gi] < t) gi++;
            while (ii < im.Length && im[ii] < t) ii++;
            var here = new ThresholdCalibration(t, metric, (double)ii / im.Length, 1 - (double)gi / g.Length, g.Length, im.Length);
            if (objective == ThresholdObjective.TargetFalseAcceptRate)
            {
                if (here.FalseAcceptRate <= targetFalseAcceptRate) best = here; // FAR only grows with t: keep the last
            }
            else if (best is null || here.BalancedAccuracy > best.BalancedAccuracy)
            {
                best = here;
            }
        }
        // The first candidate accepts nobody (FAR 0), so the target objective always has an answer.
        return best!;
    }

    private static (float[] Rows, int[] Labels, int Dims) Prepare(IEnumerable<(string Label, float[] Vector)> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var list = samples.ToList();
        if (list.Count == 0) throw new ArgumentException("no samples", nameof(samples));
        int dims = list[0].Vector?.Length ?? 0;
        if (dims == 0) throw new ArgumentException("sample 0 has no vector", nameof(samples));
        var (_, rows, labels) = ClassifierData.Collect("calibration", dims, list, 0);
        return (rows, labels, dims);
    }
}
