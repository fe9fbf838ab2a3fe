using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// Re-estimates the running mean and variance of every batch-norm layer from training batches, as PyTorch's
/// <c>torch.optim.swa_utils.update_bn</c> does: the statistics become the plain average over the batches given,
/// computed with the weights as they are now.
/// </summary>
/// <remarks>
/// Why: facenet's networks keep exponential averages with decay 0.995 (MobileFaceNet here; momentum 0.005), a time
/// constant of 200 steps. After a short run from scratch those averages still mostly hold their initial values
/// (mean 0, variance 1) and the eval-mode network, which the ONNX export bakes in, maps every face to nearly the same
/// vector. This was seen once, in an experiment that is not part of this repository (issue 4's note gives its figures:
/// after 4 epochs x 56 batches, mean off-diagonal cosine 1.000 in eval mode against -0.07 in training mode); what
/// stays checked is the method: WeightStatisticsTests (tests/FaceNetSharp.Training.Tests) compares the re-estimated
/// statistics with the batches' own mean and variance, and eval mode with training mode after re-estimation.
/// </remarks>
internal static class BatchNormStatistics
{
    /// <summary>The batch-norm layers of <paramref name="module"/> (none in the folded MobileFaceNet).</summary>
    private static BatchNorm[] Layers(nn.Module module) => [.. module.modules().OfType<BatchNorm>()];

    /// <summary>
    /// Runs <paramref name="batches"/> through <paramref name="net"/> in training mode without gradients so that each
    /// batch-norm layer's running statistics become the average of the batch statistics (momentum 1/k for the k-th
    /// batch); dropout layers stay in eval mode. Restores the layers' momentum and the network's training flag. Returns the number of batches used.
    /// Each batch tensor is disposed of here once it has been used.
    /// </summary>
    public static int Reestimate(nn.Module<Tensor, Tensor> net, IEnumerable<Tensor> batches)
    {
        var layers = Layers(net);
        if (layers.Length == 0) return 0;
        var momenta = layers.Select(l => l.momentum).ToArray();
        bool wasTraining = net.training;
        int k = 0;
        try
        {
            net.train();
            // dropout stays off: its 1/keep scaling would inflate the variances the eval-mode network never sees
            foreach (var d in net.modules().OfType<Dropout>()) d.eval();
            using var _ = no_grad();
            foreach (var batch in batches)
            {
                k++;
                foreach (var l in layers) l.momentum = 1.0 / k;    // running = (1 - 1/k) running + (1/k) batch
                using var scope = NewDisposeScope();
                using (batch) net.forward(batch);
            }
        }
        finally
        {
            for (int i = 0; i < layers.Length; i++) layers[i].momentum = momenta[i];
            if (wasTraining) net.train(); else net.eval();
        }
        return k;
    }
}
