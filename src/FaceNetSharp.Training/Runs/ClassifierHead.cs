using FaceNetSharp.Training.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// The classification layer of softmax training (facenet's <c>Logits</c>: fully connected, Xavier-initialised weights,
/// zero biases) or ArcFace's normalised weights with an additive angular margin, plus the center-loss centres.
/// Saved with the checkpoints; not part of the exported embedder.
/// </summary>
internal sealed class ClassifierHead : nn.Module
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly CenterLoss center;
    private readonly ClassifierLoss loss;
    private readonly double scale, cosM, sinM, threshold, fallback;

    public ClassifierHead(int classes, int features, ClassifierLoss loss, double arcScale, double arcMargin, double centerAlfa)
        : base(nameof(ClassifierHead))
    {
        this.loss = loss;
        // facenet: slim.fully_connected(..., weights_initializer=xavier_initializer()) with zero biases.
        weight = nn.Parameter(nn.init.xavier_uniform_(empty(classes, features)));
        bias = loss == ClassifierLoss.Softmax ? nn.Parameter(zeros(classes)) : null;
        center = new CenterLoss(classes, features, centerAlfa);
        scale = arcScale;
        cosM = Math.Cos(arcMargin);
        sinM = Math.Sin(arcMargin);
        // insightface ArcFace: where theta + m would pass pi, use cos(theta) - m*sin(m) instead (keeps the logit monotonic).
        threshold = Math.Cos(Math.PI - arcMargin);
        fallback = Math.Sin(Math.PI - arcMargin) * arcMargin;
        RegisterComponents();
    }

    /// <summary>The classifier weights [classes, features] (weight-decay applies to them, as facenet's regulariser does).</summary>
    public Parameter Weight => weight;

    /// <summary>
    /// Weight imprinting (Qi, Brown and Lowe, "Low-Shot Learning with Imprinted Weights", CVPR 2018): each class's weight
    /// row becomes the unit-length mean of its L2-normalised embeddings and the biases zero, so a pretrained network starts
    /// fine-tuning with a classifier that already agrees with its features instead of a random one whose gradients
    /// disturb them. The center-loss centres start at the class means of the raw prelogits.
    /// </summary>
    /// <param name="unitMeans">[classes, features]: per class, the mean of the L2-normalised embeddings.</param>
    /// <param name="rawMeans">[classes, features]: per class, the mean of the raw prelogits.</param>
    public void Imprint(Tensor unitMeans, Tensor rawMeans)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        weight.copy_(nn.functional.normalize(unitMeans, p: 2, dim: 1));
        bias?.zero_();
        center.Centers.copy_(rawMeans);
    }

    /// <summary>facenet's center loss on the prelogits (moves the centres in training mode).</summary>
    public Tensor CenterLoss(Tensor prelogits, Tensor labels) => center.forward(prelogits, labels);

    /// <summary>
    /// The logits the cross entropy is taken of, and the plain scores that accuracy is measured on (for softmax the
    /// same; for ArcFace the cosines without margin).
    /// </summary>
    public (Tensor Logits, Tensor Scores) Forward(Tensor prelogits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        if (loss == ClassifierLoss.Softmax)
        {
            var logits = nn.functional.linear(prelogits, weight, bias);    // N x C
            return (logits.MoveToOuterDisposeScope(), logits.alias().MoveToOuterDisposeScope());
        }
        var e = nn.functional.normalize(prelogits, p: 2, dim: 1);
        var w = nn.functional.normalize(weight, p: 2, dim: 1);
        var cos = e.mm(w.t()).clamp(-1 + 1e-7, 1 - 1e-7);                 // N x C
        var sin = (1 - cos.square()).sqrt();
        var phi = cos * cosM - sin * sinM;                                // cos(theta + m)
        phi = where(cos > threshold, phi, cos - fallback);
        var onehot = nn.functional.one_hot(labels, cos.shape[1]).to_type(cos.dtype);
        var arc = (onehot * phi + (1 - onehot) * cos) * scale;
        return (arc.MoveToOuterDisposeScope(), cos.MoveToOuterDisposeScope());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) center.Dispose();
        base.Dispose(disposing);
    }
}
