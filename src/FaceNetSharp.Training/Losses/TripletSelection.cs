namespace FaceNetSharp.Training.Losses;

/// <summary>One training triplet: row indices into the sampled batch of embeddings.</summary>
public readonly record struct Triplet(int Anchor, int Positive, int Negative);

/// <summary>The outcome of <see cref="TripletSelection.Select"/>.</summary>
/// <param name="Triplets">The chosen triplets, shuffled.</param>
/// <param name="AnchorPositivePairs">How many anchor-positive pairs were examined (facenet's <c>num_trips</c>, printed as nrof_random_negs).</param>
public sealed record TripletSelectionResult(IReadOnlyList<Triplet> Triplets, int AnchorPositivePairs);

/// <summary>
/// facenet's online triplet selection (<c>select_triplets</c> in train_tripletloss.py).
/// </summary>
/// <remarks>
/// The embeddings of one sampled batch are grouped by person: the first <c>imagesPerClass[0]</c> rows belong to the
/// first person, and so on. For every pair (a, p) of images of the same person with a &lt; p, the negatives are all
/// images of other people with <c>|a - n|^2 - |a - p|^2 &lt; alpha</c> (facenet's active "VGG Face" rule: those that
/// violate the margin, including ones closer than the positive); one is picked uniformly at random. A pair with no
/// such negative yields no triplet. The triplets are shuffled at the end, as facenet does.
/// With <c>semiHardOnly</c> the FaceNet paper's rule is used instead (also require |a - p|^2 &lt; |a - n|^2);
/// facenet keeps that line commented out. Distances are computed in double, as facenet's numpy float64 arrays do.
/// </remarks>
public static class TripletSelection
{
    /// <summary>Selects triplets from [N, D] embeddings (row-major in <paramref name="embeddings"/>).</summary>
    /// <param name="embeddings">N*D floats, row-major.</param>
    /// <param name="dimension">D.</param>
    /// <param name="imagesPerClass">How many consecutive rows each sampled person has; their sum is N.</param>
    /// <param name="alpha">The triplet margin (facenet <c>--alpha</c>, default 0.2).</param>
    /// <param name="random">Source of the random picks and of the final shuffle.</param>
    /// <param name="semiHardOnly">Use the FaceNet paper's semi-hard rule (negatives farther than the positive only).</param>
    public static TripletSelectionResult Select(ReadOnlySpan<float> embeddings, int dimension, IReadOnlyList<int> imagesPerClass,
        double alpha, Random random, bool semiHardOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int n = imagesPerClass.Sum();
        if (embeddings.Length != n * dimension)
            throw new ArgumentException($"{embeddings.Length} floats is not {n} rows (sum of imagesPerClass) x {dimension}", nameof(embeddings));

        var triplets = new List<Triplet>();
        var negDist = new double[n];
        var candidates = new List<int>(n);
        int pairs = 0;
        int start = 0;
        foreach (int count in imagesPerClass)
        {
            if (count < 0) throw new ArgumentException("a class count is negative", nameof(imagesPerClass));
            for (int a = start; a < start + count - 1; a++)
            {
                for (int j = 0; j < n; j++) negDist[j] = SquaredDistance(embeddings, dimension, a, j);
                for (int p = a + 1; p < start + count; p++)
                {
                    double posDist = negDist[p];
                    candidates.Clear();
                    for (int j = 0; j < n; j++)
                    {
                        if (j >= start && j < start + count) continue;   // same person (facenet sets these to NaN)
                        if (negDist[j] - posDist < alpha && (!semiHardOnly || posDist < negDist[j]))
                            candidates.Add(j);
                    }
                    if (candidates.Count > 0)
                        triplets.Add(new Triplet(a, p, candidates[random.Next(candidates.Count)]));
                    pairs++;
                }
            }
            start += count;
        }
        var shuffled = triplets.ToArray();
        random.Shuffle(shuffled);
        return new TripletSelectionResult(shuffled, pairs);
    }

    private static double SquaredDistance(ReadOnlySpan<float> e, int d, int i, int j)
    {
        var x = e.Slice(i * d, d);
        var y = e.Slice(j * d, d);
        double s = 0;
        for (int k = 0; k < d; k++)
        {
            double t = (double)x[k] - y[k];
            s += t * t;
        }
        return s;
    }
}
