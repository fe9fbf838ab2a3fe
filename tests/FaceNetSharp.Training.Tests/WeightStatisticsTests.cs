using FaceNetSharp.Training.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

/// <summary>Batch-norm re-estimation, the weights' moving averages and classifier imprinting, on tensors small enough to check by hand.</summary>
public sealed class WeightStatisticsTests
{
    public WeightStatisticsTests() => TorchTest.Init();

    private sealed class ConvBn : nn.Module<Tensor, Tensor>
    {
        public readonly Conv2d conv = nn.Conv2d(2, 3, 1, bias: false);
        public readonly BatchNorm2d bn = nn.BatchNorm2d(3, momentum: 0.005);
        public readonly Dropout drop = nn.Dropout(0.5);

        public ConvBn() : base(nameof(ConvBn)) => RegisterComponents();

        // dropout before the batch norm, as Inception-ResNet-v1 has it before its bottleneck's
        public override Tensor forward(Tensor x) => bn.forward(drop.forward(conv.forward(x)));
    }

    [Fact]
    public void Batch_norm_statistics_become_the_average_of_the_batch_statistics()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var net = new ConvBn();
        net.eval();
        var a = randn(4, 2, 5, 5) * 3 + 1;
        var b = randn(6, 2, 5, 5) - 2;
        Tensor Features(Tensor x) { using var _ = no_grad(); return net.conv.forward(x); }
        // per channel over N, H, W; the running variance is the unbiased one, as PyTorch keeps it
        var fa = Features(a);
        var fb = Features(b);
        var meanA = fa.mean([0, 2, 3]);
        var meanB = fb.mean([0, 2, 3]);
        var varA = fa.var([0, 2, 3], unbiased: true);
        var varB = fb.var([0, 2, 3], unbiased: true);

        int used = BatchNormStatistics.Reestimate(net, [a.clone(), b.clone()]);

        Assert.Equal(2, used);
        AssertClose((meanA + meanB) / 2, net.bn.running_mean!);
        AssertClose((varA + varB) / 2, net.bn.running_var!);
        Assert.Equal(0.005, net.bn.momentum!.Value, 12);            // momentum put back
        Assert.False(net.training);                                 // and the mode
        // the dropout stayed off: the same statistics again from the same batches
        BatchNormStatistics.Reestimate(net, [a.clone(), b.clone()]);
        AssertClose((varA + varB) / 2, net.bn.running_var!);
    }

    [Fact]
    public void Batch_norm_re_estimation_makes_eval_mode_agree_with_training_mode_on_the_batch()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var net = new ConvBn();
        var x = randn(64, 2, 8, 8) * 5 + 3;
        using (no_grad())
        {
            net.train();
            net.drop.eval();
            var training = net.forward(x);
            net.eval();
            var stale = net.forward(x);                             // running stats still 0 / 1: far off
            Assert.True((stale - training).abs().max().item<float>() > 1);
            BatchNormStatistics.Reestimate(net, [x.clone()]);
            var fresh = net.forward(x);
            // equal up to the unbiased-variance factor sqrt(4096 / 4095)
            Assert.True((fresh - training).abs().max().item<float>() < 2e-3, $"{(fresh - training).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Moving_averages_follow_tensorflow_and_apply_restores_weights_and_buffers()
    {
        using var scope = NewDisposeScope();
        using var net = new ConvBn();
        var w = net.conv.weight!;
        using (no_grad()) w.fill_(1f);
        using var averages = new MovingAverages([w], decay: 0.9999);
        using (no_grad()) w.fill_(3f);
        // step 1: d = min(0.9999, 2 / 11); shadow = 1 + (1 - 2/11) * (3 - 1)
        averages.Update(1);
        float expected = 1 + (1 - 2f / 11) * 2;
        Assert.Equal(expected, averages.Shadows[0].max().item<float>(), 5);
        // late in a run the decay is the flag's: min(0.9999, 100001 / 100010) = 0.9999
        Assert.Equal(0.9999, MovingAverages.DecayAt(0.9999, 100_000), 12);
        Assert.Equal(11.0 / 20.0, MovingAverages.DecayAt(0.9999, 10), 12);

        using (no_grad()) net.bn.running_mean!.fill_(7f);
        using (averages.Apply(net))
        {
            Assert.Equal(expected, w.max().item<float>(), 5);
            using (no_grad()) net.bn.running_mean!.fill_(-1f);       // e.g. re-estimated for the averages
        }
        Assert.Equal(3f, w.max().item<float>());
        Assert.Equal(7f, net.bn.running_mean!.max().item<float>());
    }

    [Fact]
    public void Imprinted_classifier_scores_each_class_mean_highest_for_its_class()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var means = randn(5, 16);
        var raw = randn(5, 16) * 4;
        foreach (var loss in new[] { ClassifierLoss.Softmax, ClassifierLoss.ArcFace })
        {
            using var head = new ClassifierHead(5, 16, loss, 64, 0.5, 0.95);
            head.Imprint(means, raw);
            var labels = arange(5, ScalarType.Int64);
            var (_, scores) = head.Forward(nn.functional.normalize(means, p: 2, dim: 1), labels);
            Assert.Equal(labels.data<long>().ToArray(), scores.argmax(1).data<long>().ToArray());
            AssertClose(nn.functional.normalize(means, p: 2, dim: 1), head.Weight);
            if (loss == ClassifierLoss.ArcFace)
                AssertClose(ones(5), scores.diag());                // cosine of each mean with its own weight
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-4)
    {
        float diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff < tolerance, $"max abs difference {diff}");
    }
}
