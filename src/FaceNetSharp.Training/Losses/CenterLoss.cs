using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Losses;

/// <summary>
/// Center loss (Wen et al., ECCV 2016) exactly as facenet's <c>facenet.center_loss</c> computes it.
/// Holds one centre per class in the non-trainable buffer <c>centers</c> [classes, features], zero at start,
/// so that the centres travel with the module's state dict (checkpoints, --resume).
/// </summary>
/// <remarks>
/// For a batch of features f_i [N, D] with labels y_i, facenet computes (in this order):
/// <list type="number">
/// <item><c>c_batch = centers[y]</c> (gathered BEFORE the update);</item>
/// <item><c>centers[y_i] -= (1 - alfa) * (c_batch_i - f_i)</c> for each i; several samples of one class add up
///   (tf.scatter_sub accumulates duplicate indices), hence <c>index_add_</c> here;</item>
/// <item><c>loss = mean((f - c_batch)^2)</c> over all N*D elements (tf.reduce_mean of the squares; not a sum
///   over the feature axis, and not the 1/2 of tf.nn.l2_loss used by older facenet versions).</item>
/// </list>
/// The gradient flows to the features only; the centres move by the update rule, never by backprop.
/// facenet applies it to the prelogits with <c>--center_loss_alfa</c> (default 0.95) and weights it by
/// <c>--center_loss_factor</c> in the total loss (that weighting is the trainer's job).
/// </remarks>
public sealed class CenterLoss : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Tensor centers;

    /// <param name="numClasses">Number of classes (rows of <c>centers</c>).</param>
    /// <param name="numFeatures">Feature size (the prelogits width, e.g. facenet's embedding size).</param>
    /// <param name="alfa">facenet's <c>center_loss_alfa</c>: 1 keeps the centres fixed, 0 jumps them onto the batch.</param>
    public CenterLoss(int numClasses, int numFeatures, double alfa) : base(nameof(CenterLoss))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numFeatures, 1);
        if (alfa is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alfa), alfa, "alfa must be in [0, 1]");
        Alfa = alfa;
        // facenet: tf.get_variable('centers', ..., initializer=tf.constant_initializer(0), trainable=False)
        centers = zeros(numClasses, numFeatures);
        register_buffer("centers", centers);
        RegisterComponents();
    }

    /// <summary>facenet's <c>center_loss_alfa</c>.</summary>
    public double Alfa { get; }

    /// <summary>The centres [classes, features] (the live buffer: do not dispose).</summary>
    public Tensor Centers => centers;

    /// <summary>Returns the loss (a scalar) and, in training mode, moves the centres of the labels in the batch.</summary>
    /// <param name="features">[N, D] float features (facenet: the prelogits).</param>
    /// <param name="labels">[N] int64 class indices.</param>
    public override Tensor forward(Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var y = labels.reshape(-1);
        var centersBatch = centers.index_select(0, y);              // N x D, a copy: the update below leaves it alone
        var loss = (features - centersBatch).square().mean();         // scalar
        if (training)
        {
            using var _ = no_grad();
            var diff = (centersBatch - features.detach()).mul(1 - Alfa); // N x D
            centers.index_add_(0, y, diff, alpha: -1);               // scatter_sub with accumulation
        }
        return loss.MoveToOuterDisposeScope();
    }
}
