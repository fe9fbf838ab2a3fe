using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

public sealed class NetworkTests
{
    public NetworkTests() => TorchTest.Init();

    [Theory]
    [InlineData(112, 3, 2, 0, 1)]   // MobileFaceNet's first conv: asymmetric
    [InlineData(56, 3, 2, 0, 1)]
    [InlineData(7, 3, 2, 1, 1)]     // odd size: symmetric
    [InlineData(56, 3, 1, 1, 1)]
    [InlineData(7, 7, 1, 3, 3)]
    [InlineData(8, 1, 2, 0, 0)]
    public void Tf_same_padding(long input, long kernel, long stride, long before, long after) =>
        Assert.Equal((before, after), TfSamePadding.Compute(input, kernel, stride));

    [Fact]
    public void Stride_2_conv_pads_0_before_and_1_after_like_tensorflow()
    {
        using var scope = NewDisposeScope();
        using var unit = new MobileFaceNet.ConvUnit(1, 1, 3, 2, groups: 1, prelu: false, folded: true);
        using (no_grad())
        {
            foreach (var (name, p) in unit.named_parameters())
                p.copy_(name.EndsWith("weight", StringComparison.Ordinal) ? ones_like(p) : zeros_like(p));
        }
        // 4x4 input, value = 10*row + col; 3x3 ones kernel, stride 2, TF SAME: windows start at 0 and 2,
        // the second one running over one padded zero row/column at the bottom/right.
        var x = tensor(Enumerable.Range(0, 16).Select(i => (float)(10 * (i / 4) + i % 4)).ToArray()).reshape(1, 1, 4, 4);
        var y = unit.forward(x).data<float>().ToArray();
        float Sum(int r0, int c0) { float s = 0; for (int r = r0; r < Math.Min(r0 + 3, 4); r++) for (int c = c0; c < Math.Min(c0 + 3, 4); c++) s += 10 * r + c; return s; }
        Assert.Equal(new[] { Sum(0, 0), Sum(0, 2), Sum(2, 0), Sum(2, 2) }, y);
        Assert.Equal(99f, y[0]); // rows 0..2, cols 0..2: 3*(0+10+20) + 3*(0+1+2)
    }

    [Fact]
    public void MobileFaceNet_gives_n_by_192_and_folded_form_has_the_tflite_parameter_count()
    {
        using var scope = NewDisposeScope();
        using var net = new MobileFaceNet(new MobileFaceNetOptions(FoldedBatchNorm: true));
        net.eval();
        long count = net.parameters().Sum(p => p.numel());
        // MODELS.md: MobileFaceNet.tflite holds 1,292,992 float32 parameters (weights, folded biases, PReLU alphas).
        Assert.Equal(1_292_992, count);
        using var _ = no_grad();
        var y = net.forward(randn(3, 3, 112, 112));
        Assert.Equal(new long[] { 3, 192 }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Fact]
    public void MobileFaceNet_with_batch_norm_trains_a_step_and_has_running_stats()
    {
        using var scope = NewDisposeScope();
        using var net = new MobileFaceNet(new MobileFaceNetOptions(EmbeddingSize: 64));
        var sd = net.state_dict();
        Assert.Contains("conv1.bn.running_mean", sd.Keys);
        Assert.Contains("stage2.0.dw.prelu.weight", sd.Keys);
        Assert.Contains("linear.conv.weight", sd.Keys);
        Assert.DoesNotContain("conv1.conv.bias", sd.Keys);
        net.train();
        var y = net.forward(randn(2, 3, 112, 112));
        Assert.Equal(new long[] { 2, 64 }, y.shape);
        y.square().mean().backward();
        Assert.NotNull(net.get_parameter("conv1.conv.weight")!.grad);
    }

    [Fact]
    public void InceptionResnetV1_gives_n_by_embedding_and_uses_facenet_pytorch_names()
    {
        using var scope = NewDisposeScope();
        using var net = new InceptionResnetV1(new InceptionResnetV1Options(EmbeddingSize: 512, KeepProbability: 0.8));
        long count = net.parameters().Sum(p => p.numel());
        // STACK.md: Inception-ResNet-v1 with 512-d output has about 23.5M parameters.
        Assert.InRange(count, 23_400_000, 23_600_000);
        var keys = net.state_dict().Keys.ToHashSet();
        foreach (var k in new[] { "conv2d_1a.conv.weight", "conv2d_1a.bn.running_var", "repeat_1.4.branch2.2.bn.bias",
                     "mixed_6a.branch1.2.conv.weight", "repeat_2.9.conv2d.bias", "mixed_7a.branch2.2.conv.weight",
                     "repeat_3.4.branch1.2.conv.weight", "block8.conv2d.weight", "last_linear.weight", "last_bn.running_mean" })
            Assert.Contains(k, keys);
        net.eval();
        using var _ = no_grad();
        var y = net.forward(randn(2, 3, 160, 160));
        Assert.Equal(new long[] { 2, 512 }, y.shape);
        var n = EmbeddingNetwork.L2Normalize(y).norm(1);
        Assert.True(n.sub(1).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Forward_leaks_no_tensors()
    {
        using var net = new MobileFaceNet(new MobileFaceNetOptions(FoldedBatchNorm: true));
        net.eval();
        using var x = randn(1, 3, 112, 112);
        using var _ = no_grad();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 2; i++)
        {
            using var y = net.forward(x);
        }
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
