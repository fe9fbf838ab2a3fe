using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Losses;

/// <summary>facenet's <c>facenet.triplet_loss</c> (FaceNet paper, Schroff et al. 2015).</summary>
public static class TripletLoss
{
    /// <summary>
    /// <c>mean_i max(|a_i - p_i|^2 - |a_i - n_i|^2 + alpha, 0)</c> with squared Euclidean distances summed over the
    /// feature axis. Inputs are [N, D] (facenet feeds L2-normalised embeddings); returns a scalar.
    /// </summary>
    /// <param name="anchor">[N, D] anchor embeddings.</param>
    /// <param name="positive">[N, D] embeddings of the same people.</param>
    /// <param name="negative">[N, D] embeddings of other people.</param>
    /// <param name="alpha">Margin; facenet's <c>--alpha</c> default is 0.2.</param>
    public static Tensor Compute(Tensor anchor, Tensor positive, Tensor negative, double alpha)
    {
        using var scope = NewDisposeScope();
        var (posDist, negDist) = Distances(anchor, positive, negative);
        return FromDistances(posDist, negDist, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>The loss from the squared anchor-positive and anchor-negative distances [N] (<see cref="InterleavedDistances"/>).</summary>
    public static Tensor FromDistances(Tensor posDist, Tensor negDist, double alpha)
    {
        using var scope = NewDisposeScope();
        var basic = posDist - negDist + alpha;                       // N
        return basic.clamp_min(0).mean().MoveToOuterDisposeScope();  // scalar
    }

    private static (Tensor Pos, Tensor Neg) Distances(Tensor anchor, Tensor positive, Tensor negative) =>
        ((anchor - positive).square().sum(1), (anchor - negative).square().sum(1));    // N, N

    /// <summary>
    /// The same loss for a batch laid out as facenet's triplet training feeds it: rows interleaved
    /// (a0, p0, n0, a1, p1, n1, ...), as <c>itertools.chain(*triplets)</c> makes them; facenet then does
    /// <c>tf.unstack(tf.reshape(embeddings, [-1, 3, D]), 3, 1)</c>.
    /// </summary>
    public static Tensor ComputeInterleaved(Tensor embeddings, double alpha)
    {
        using var scope = NewDisposeScope();
        var (pos, neg) = InterleavedDistances(embeddings);
        return FromDistances(pos, neg, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Squared anchor-positive and anchor-negative distances [k] of an interleaved batch (see
    /// <see cref="ComputeInterleaved"/>), for the loss and for the fraction of triplets already in order.
    /// </summary>
    public static (Tensor Pos, Tensor Neg) InterleavedDistances(Tensor embeddings)
    {
        if (embeddings.dim() != 2 || embeddings.shape[0] % 3 != 0)
            throw new ArgumentException($"expected [3k, D] embeddings, got [{string.Join(", ", embeddings.shape)}]", nameof(embeddings));
        using var scope = NewDisposeScope();
        var t = embeddings.reshape(-1, 3, embeddings.shape[1]);      // k x 3 x D
        var (pos, neg) = Distances(t.select(1, 0), t.select(1, 1), t.select(1, 2));
        return (pos.MoveToOuterDisposeScope(), neg.MoveToOuterDisposeScope());
    }
}
