namespace FaceNetSharp.Evaluation;

/// <summary>
/// Face-verification evaluation with facenet's LFW protocol. Thread-safe (no state).
/// </summary>
/// <remarks>
/// Folds follow sklearn <c>KFold(n_splits=folds, shuffle=False)</c> over the pairs in the order given (contiguous test
/// blocks, the first <c>n % folds</c> blocks one pair larger), unless a fold assignment is passed. For LFW's pairs.txt
/// with every image present the KFold blocks are exactly the file's 10 folds; when pairs are skipped they are not.
/// </remarks>
public static class LfwEvaluation
{
    /// <summary>
    /// Evaluates embedding pairs: computes the distances (per fold when <paramref name="subtractMean"/>, as facenet does)
    /// and the metrics.
    /// </summary>
    /// <param name="embeddings1">First embedding of each pair (all of the same length).</param>
    /// <param name="embeddings2">Second embedding of each pair.</param>
    /// <param name="same">True where the pair shows the same person.</param>
    /// <param name="folds">Number of folds (facenet <c>--lfw_nrof_folds</c>, default 10); at least 2 and at most the pair count.</param>
    /// <param name="metric">Distance metric (facenet <c>--distance_metric</c>).</param>
    /// <param name="subtractMean">
    /// Subtract, for each fold, the mean of all embeddings of its training pairs before measuring distances
    /// (facenet <c>--subtract_mean</c>). The TAR-at-FAR figures then use the mean of all embeddings.
    /// </param>
    /// <param name="farTarget">FAR at which VAL is reported (facenet: 1e-3).</param>
    /// <param name="foldAssignment">Optional fold (0..folds-1) of each pair instead of KFold's contiguous blocks.</param>
    /// <exception cref="ArgumentException">The inputs disagree in length, embeddings differ in length, or a fold is empty.</exception>
    public static VerificationReport Evaluate(
        IReadOnlyList<float[]> embeddings1,
        IReadOnlyList<float[]> embeddings2,
        IReadOnlyList<bool> same,
        int folds = 10,
        DistanceMetric metric = DistanceMetric.SquaredEuclidean,
        bool subtractMean = false,
        double farTarget = 1e-3,
        IReadOnlyList<int>? foldAssignment = null)
    {
        if (embeddings1.Count != embeddings2.Count || embeddings1.Count != same.Count)
            throw new ArgumentException($"pair counts differ: {embeddings1.Count} first, {embeddings2.Count} second embeddings, {same.Count} labels");
        if (embeddings1.Count == 0) throw new ArgumentException("no pairs to evaluate");
        int dim = embeddings1[0].Length;
        for (int i = 0; i < embeddings1.Count; i++)
            if (embeddings1[i].Length != dim || embeddings2[i].Length != dim)
                throw new ArgumentException($"pair {i}: embedding lengths {embeddings1[i].Length} and {embeddings2[i].Length}, expected {dim}");

        var foldOf = VerificationMetrics.Folds(embeddings1.Count, folds, foldAssignment);
        Func<int, double[]> distancesForFold;
        double[] allDistances;
        if (subtractMean)
        {
            distancesForFold = f => Distance.Pairwise(embeddings1, embeddings2, metric,
                Distance.Mean(embeddings1, embeddings2, Enumerable.Range(0, foldOf.Length).Where(i => foldOf[i] != f)));
            allDistances = Distance.Pairwise(embeddings1, embeddings2, metric,
                Distance.Mean(embeddings1, embeddings2, Enumerable.Range(0, foldOf.Length)));
        }
        else
        {
            allDistances = Distance.Pairwise(embeddings1, embeddings2, metric, null);
            distancesForFold = _ => allDistances;
        }
        // Distances here are float32 values, as in facenet; numpy compares them with the float64 grid in float32.
        return VerificationMetrics.Compute(distancesForFold, allDistances, same.ToArray(), foldOf, folds, farTarget, singlePrecisionDistances: true);
    }

    /// <summary>Evaluates precomputed pair distances (smaller = more alike).</summary>
    /// <param name="distances">Distance of each pair; the threshold grids assume facenet's units (see <see cref="DistanceMetric"/>).</param>
    /// <param name="same">True where the pair shows the same person.</param>
    /// <param name="folds">Number of folds; at least 2 and at most the pair count.</param>
    /// <param name="farTarget">FAR at which VAL is reported (facenet: 1e-3).</param>
    /// <param name="foldAssignment">Optional fold (0..folds-1) of each pair instead of KFold's contiguous blocks.</param>
    /// <exception cref="ArgumentException">The inputs disagree in length or a fold is empty.</exception>
    public static VerificationReport Evaluate(
        IReadOnlyList<double> distances,
        IReadOnlyList<bool> same,
        int folds = 10,
        double farTarget = 1e-3,
        IReadOnlyList<int>? foldAssignment = null)
    {
        if (distances.Count != same.Count) throw new ArgumentException($"{distances.Count} distances but {same.Count} labels");
        if (distances.Count == 0) throw new ArgumentException("no pairs to evaluate");
        var d = distances.ToArray();
        var foldOf = VerificationMetrics.Folds(d.Length, folds, foldAssignment);
        return VerificationMetrics.Compute(_ => d, d, same.ToArray(), foldOf, folds, farTarget, singlePrecisionDistances: false);
    }
}
