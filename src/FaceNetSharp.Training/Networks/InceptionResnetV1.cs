using FaceNetSharp.Training.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Networks;

/// <summary>Options for <see cref="InceptionResnetV1"/>.</summary>
/// <param name="EmbeddingSize">facenet <c>--embedding_size</c> (the Bottleneck layer): 128 by default in train_softmax.py;
/// facenet's released 20180402-114759 model (and facenet-pytorch's port of it) uses 512.</param>
/// <param name="KeepProbability">facenet <c>--keep_probability</c> of the dropout before the bottleneck (1.0 = none, the default).</param>
public sealed record InceptionResnetV1Options(int EmbeddingSize = 128, double KeepProbability = 1.0);

/// <summary>
/// Inception-ResNet-v1 as in facenet's <c>models/inception_resnet_v1.py</c> (Szegedy et al. 2016), with the module
/// and parameter names of facenet-pytorch's port, so that its state dicts (e.g. 20180402-114759-vggface2.pt) load by
/// name. Input [N, 3, 160, 160] (facenet: fixed standardisation <c>(x - 127.5) / 128</c> or per-image prewhitening);
/// output the prelogits [N, EmbeddingSize] (not normalised). facenet-pytorch's <c>logits</c> layer is not part of this
/// module: the softmax trainer owns its classifier.
/// </summary>
/// <remarks>
/// Batch norm everywhere uses facenet's epsilon 0.001 (facenet-pytorch: "value found in tensorflow") and PyTorch's
/// default momentum 0.1. facenet's TF graph has no batch-norm scale (slim's default <c>scale=False</c>); the
/// PyTorch port keeps an affine weight (loaded as ones), and so does this module.
/// TF "SAME" padding here is always stride 1 with odd kernels, i.e. symmetric; the stride-2 layers are VALID.
/// </remarks>
public sealed class InceptionResnetV1 : EmbeddingNetwork
{
    // facenet inception_resnet_v1.inference: batch_norm_params epsilon 0.001 (decay 0.995 there; facenet-pytorch
    // trains with PyTorch's default momentum 0.1, which is what its checkpoints' running stats assume).
    internal const double BatchNormEpsilon = 0.001;
    internal const double BatchNormMomentum = 0.1;
    // facenet inception_resnet_v1: slim.repeat(net, 5, block35, scale=0.17), (10, block17, 0.10), (5, block8, 0.20).
    internal const double Block35Scale = 0.17, Block17Scale = 0.10, Block8Scale = 0.20;

    private readonly BasicConv2d conv2d_1a;
    private readonly BasicConv2d conv2d_2a;
    private readonly BasicConv2d conv2d_2b;
    private readonly MaxPool2d maxpool_3a;
    private readonly BasicConv2d conv2d_3b;
    private readonly BasicConv2d conv2d_4a;
    private readonly BasicConv2d conv2d_4b;
    private readonly Sequential repeat_1;
    private readonly Mixed6a mixed_6a;
    private readonly Sequential repeat_2;
    private readonly Mixed7a mixed_7a;
    private readonly Sequential repeat_3;
    private readonly Block8 block8;
    private readonly AdaptiveAvgPool2d avgpool_1a;
    private readonly Dropout dropout;
    private readonly Linear last_linear;
    private readonly BatchNorm1d last_bn;

    /// <summary>A new network with freshly initialised weights.</summary>
    /// <param name="options">Its settings; null: the defaults.</param>
    public InceptionResnetV1(InceptionResnetV1Options? options = null) : base(nameof(InceptionResnetV1))
    {
        Options = options ?? new InceptionResnetV1Options();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.EmbeddingSize, 1);
        if (Options.KeepProbability is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(options), Options.KeepProbability, "keep probability must be in (0, 1]");
        conv2d_1a = new BasicConv2d(3, 32, (3, 3), 2, (0, 0));
        conv2d_2a = new BasicConv2d(32, 32, (3, 3), 1, (0, 0));
        conv2d_2b = new BasicConv2d(32, 64, (3, 3), 1, (1, 1));
        maxpool_3a = nn.MaxPool2d(3, stride: 2);
        conv2d_3b = new BasicConv2d(64, 80, (1, 1), 1, (0, 0));
        conv2d_4a = new BasicConv2d(80, 192, (3, 3), 1, (0, 0));
        conv2d_4b = new BasicConv2d(192, 256, (3, 3), 2, (0, 0));
        repeat_1 = Repeat(5, () => new Block35(Block35Scale));
        mixed_6a = new Mixed6a();
        repeat_2 = Repeat(10, () => new Block17(Block17Scale));
        mixed_7a = new Mixed7a();
        repeat_3 = Repeat(5, () => new Block8(Block8Scale, relu: true));
        block8 = new Block8(1.0, relu: false);
        avgpool_1a = nn.AdaptiveAvgPool2d(1);
        dropout = nn.Dropout(1 - Options.KeepProbability);
        last_linear = nn.Linear(1792, Options.EmbeddingSize, hasBias: false);
        last_bn = nn.BatchNorm1d(Options.EmbeddingSize, eps: BatchNormEpsilon, momentum: BatchNormMomentum);
        RegisterComponents();
    }

    /// <summary>The settings the network was built with.</summary>
    public InceptionResnetV1Options Options { get; }

    /// <inheritdoc/>
    public override int EmbeddingSize => Options.EmbeddingSize;

    /// <summary>160, facenet's --image_size default (any size from 75 up runs: the pool is adaptive).</summary>
    public override int InputSize => 160;

    /// <summary>The embeddings (N x <see cref="EmbeddingSize"/>, not normalised) of a batch of images (N x 3 x S x S).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = conv2d_1a.forward(x);   // N x 32 x 79 x 79   (160 input)
        x = conv2d_2a.forward(x);   // N x 32 x 77 x 77
        x = conv2d_2b.forward(x);   // N x 64 x 77 x 77
        x = maxpool_3a.forward(x);  // N x 64 x 38 x 38
        x = conv2d_3b.forward(x);   // N x 80 x 38 x 38
        x = conv2d_4a.forward(x);   // N x 192 x 36 x 36
        x = conv2d_4b.forward(x);   // N x 256 x 17 x 17
        x = repeat_1.forward(x);    // N x 256 x 17 x 17
        x = mixed_6a.forward(x);    // N x 896 x 8 x 8
        x = repeat_2.forward(x);    // N x 896 x 8 x 8
        x = mixed_7a.forward(x);    // N x 1792 x 3 x 3
        x = repeat_3.forward(x);    // N x 1792 x 3 x 3
        x = block8.forward(x);      // N x 1792 x 3 x 3
        x = avgpool_1a.forward(x);  // N x 1792 x 1 x 1
        x = dropout.forward(x);
        x = last_linear.forward(x.flatten(1)); // N x E
        x = last_bn.forward(x);     // N x E
        return x.MoveToOuterDisposeScope();
    }

    internal override OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
    {
        var b = c.Builder;
        x = conv2d_1a.ExportOnnx(c, x);
        x = conv2d_2a.ExportOnnx(c, x);
        x = conv2d_2b.ExportOnnx(c, x);
        x = MaxPoolOnnx(c, x);
        x = conv2d_3b.ExportOnnx(c, x);
        x = conv2d_4a.ExportOnnx(c, x);
        x = conv2d_4b.ExportOnnx(c, x);
        foreach (var m in repeat_1.children().Cast<Block35>()) x = m.ExportOnnx(c, x);
        x = mixed_6a.ExportOnnx(c, x);
        foreach (var m in repeat_2.children().Cast<Block17>()) x = m.ExportOnnx(c, x);
        x = mixed_7a.ExportOnnx(c, x);
        foreach (var m in repeat_3.children().Cast<Block8>()) x = m.ExportOnnx(c, x);
        x = block8.ExportOnnx(c, x);
        // avgpool_1a (adaptive to 1x1) = global average pool; dropout is the identity in eval mode.
        var pooled = b.Flatten(b.Node("GlobalAveragePool", [x.Name]));             // N x 1792
        var (w, bias) = c.FoldBatchNorm(last_linear.weight!, last_linear.bias, last_bn.weight, last_bn.bias,
            last_bn.running_mean!, last_bn.running_var!, BatchNormEpsilon);
        return new OnnxValue(b.Gemm(pooled, w, bias), 0, 0);                        // N x E
    }

    /// <summary>3x3 stride-2 VALID max pool (maxpool_3a, and the pool branches of the reduction blocks).</summary>
    internal static OnnxValue MaxPoolOnnx(OnnxExportContext c, OnnxValue x) =>
        new(c.Builder.MaxPool(x.Name, 3, 2), OnnxExportContext.OutputSize(x.Height, 3, 2, 0, 0), OnnxExportContext.OutputSize(x.Width, 3, 2, 0, 0));

    /// <summary>Writes the modules of a Sequential of <see cref="BasicConv2d"/> one after the other.</summary>
    internal static OnnxValue ChainOnnx(OnnxExportContext c, Sequential seq, OnnxValue x)
    {
        foreach (var m in seq.children().Cast<BasicConv2d>()) x = m.ExportOnnx(c, x);
        return x;
    }

    /// <summary><c>relu?(x + scale * conv(concat(branches)))</c>: the residual tail of Block35/17/8.</summary>
    internal static OnnxValue ResidualOnnx(OnnxExportContext c, OnnxValue x, string[] branches, Conv2d up, double scale, bool relu)
    {
        var b = c.Builder;
        var mixed = b.Concat(1, branches);
        var y = b.Conv(mixed, c.Constant("w", up.weight!), c.Constant("b", up.bias!));
        y = b.Add(b.Mul(y, c.Scalar("scale", (float)scale)), x.Name);
        return x with { Name = relu ? b.Relu(y) : y };
    }

    private static Sequential Repeat(int count, Func<nn.Module<Tensor, Tensor>> make) =>
        nn.Sequential(Enumerable.Range(0, count).Select(i => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), make())));

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv2d_1a.Dispose(); conv2d_2a.Dispose(); conv2d_2b.Dispose(); maxpool_3a.Dispose();
            conv2d_3b.Dispose(); conv2d_4a.Dispose(); conv2d_4b.Dispose(); repeat_1.Dispose();
            mixed_6a.Dispose(); repeat_2.Dispose(); mixed_7a.Dispose(); repeat_3.Dispose(); block8.Dispose();
            avgpool_1a.Dispose(); dropout.Dispose(); last_linear.Dispose(); last_bn.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Conv (no bias) + batch norm (eps 0.001) + ReLU: slim.conv2d under facenet's arg_scope.</summary>
    internal sealed class BasicConv2d : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly BatchNorm2d bn;
        private readonly ReLU relu;
        private readonly (long H, long W) kernel;
        private readonly long stride;
        private readonly (long H, long W) padding;

        public BasicConv2d(long input, long output, (long, long) kernel, long stride, (long, long) padding) : base(nameof(BasicConv2d))
        {
            this.kernel = kernel;
            this.stride = stride;
            this.padding = padding;
            conv = nn.Conv2d(input, output, kernel, stride: (stride, stride), padding: padding, bias: false);
            bn = nn.BatchNorm2d(output, eps: BatchNormEpsilon, momentum: BatchNormMomentum);
            relu = nn.ReLU();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return relu.forward(bn.forward(conv.forward(x))).MoveToOuterDisposeScope();
        }

        /// <summary>Conv with the batch norm folded in, then ReLU.</summary>
        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
        {
            var (w, b) = c.FoldBatchNorm(conv.weight!, null, bn.weight, bn.bias, bn.running_mean!, bn.running_var!, BatchNormEpsilon);
            var y = c.Builder.Conv(x.Name, w, b, (int)stride, [padding.H, padding.W, padding.H, padding.W]);
            return new OnnxValue(c.Builder.Relu(y),
                OnnxExportContext.OutputSize(x.Height, kernel.H, stride, padding.H, padding.H),
                OnnxExportContext.OutputSize(x.Width, kernel.W, stride, padding.W, padding.W));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { conv.Dispose(); bn.Dispose(); relu.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Inception-ResNet-A (35x35 in the paper; 17x17 at 160 input): 3 branches, 1x1 up-projection, scaled residual, ReLU.</summary>
    internal sealed class Block35 : nn.Module<Tensor, Tensor>
    {
        private readonly BasicConv2d branch0;
        private readonly Sequential branch1;
        private readonly Sequential branch2;
        private readonly Conv2d conv2d;
        private readonly ReLU relu;
        private readonly double scale;

        public Block35(double scale) : base(nameof(Block35))
        {
            this.scale = scale;
            branch0 = new BasicConv2d(256, 32, (1, 1), 1, (0, 0));
            branch1 = nn.Sequential(new BasicConv2d(256, 32, (1, 1), 1, (0, 0)), new BasicConv2d(32, 32, (3, 3), 1, (1, 1)));
            branch2 = nn.Sequential(new BasicConv2d(256, 32, (1, 1), 1, (0, 0)), new BasicConv2d(32, 32, (3, 3), 1, (1, 1)),
                new BasicConv2d(32, 32, (3, 3), 1, (1, 1)));
            conv2d = nn.Conv2d(96, 256, 1);
            relu = nn.ReLU();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var mixed = cat([branch0.forward(x), branch1.forward(x), branch2.forward(x)], 1); // N x 96 x H x W
            var up = conv2d.forward(mixed);                                                      // N x 256 x H x W
            return relu.forward(up * scale + x).MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x) => ResidualOnnx(c, x,
            [branch0.ExportOnnx(c, x).Name, ChainOnnx(c, branch1, x).Name, ChainOnnx(c, branch2, x).Name], conv2d, scale, relu: true);

        protected override void Dispose(bool disposing)
        {
            if (disposing) { branch0.Dispose(); branch1.Dispose(); branch2.Dispose(); conv2d.Dispose(); relu.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Inception-ResNet-B: 1x1 and 1x1-1x7-7x1 branches, 1x1 up-projection, scaled residual, ReLU.</summary>
    internal sealed class Block17 : nn.Module<Tensor, Tensor>
    {
        private readonly BasicConv2d branch0;
        private readonly Sequential branch1;
        private readonly Conv2d conv2d;
        private readonly ReLU relu;
        private readonly double scale;

        public Block17(double scale) : base(nameof(Block17))
        {
            this.scale = scale;
            branch0 = new BasicConv2d(896, 128, (1, 1), 1, (0, 0));
            branch1 = nn.Sequential(new BasicConv2d(896, 128, (1, 1), 1, (0, 0)), new BasicConv2d(128, 128, (1, 7), 1, (0, 3)),
                new BasicConv2d(128, 128, (7, 1), 1, (3, 0)));
            conv2d = nn.Conv2d(256, 896, 1);
            relu = nn.ReLU();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var mixed = cat([branch0.forward(x), branch1.forward(x)], 1); // N x 256 x H x W
            var up = conv2d.forward(mixed);                               // N x 896 x H x W
            return relu.forward(up * scale + x).MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x) => ResidualOnnx(c, x,
            [branch0.ExportOnnx(c, x).Name, ChainOnnx(c, branch1, x).Name], conv2d, scale, relu: true);

        protected override void Dispose(bool disposing)
        {
            if (disposing) { branch0.Dispose(); branch1.Dispose(); conv2d.Dispose(); relu.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Inception-ResNet-C: 1x1 and 1x1-1x3-3x1 branches, 1x1 up-projection, scaled residual, optional ReLU.</summary>
    internal sealed class Block8 : nn.Module<Tensor, Tensor>
    {
        private readonly BasicConv2d branch0;
        private readonly Sequential branch1;
        private readonly Conv2d conv2d;
        private readonly ReLU? relu;
        private readonly double scale;

        public Block8(double scale, bool relu) : base(nameof(Block8))
        {
            this.scale = scale;
            branch0 = new BasicConv2d(1792, 192, (1, 1), 1, (0, 0));
            branch1 = nn.Sequential(new BasicConv2d(1792, 192, (1, 1), 1, (0, 0)), new BasicConv2d(192, 192, (1, 3), 1, (0, 1)),
                new BasicConv2d(192, 192, (3, 1), 1, (1, 0)));
            conv2d = nn.Conv2d(384, 1792, 1);
            this.relu = relu ? nn.ReLU() : null;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var mixed = cat([branch0.forward(x), branch1.forward(x)], 1); // N x 384 x H x W
            var y = conv2d.forward(mixed) * scale + x;                    // N x 1792 x H x W
            if (relu is not null) y = relu.forward(y);
            return y.MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x) => ResidualOnnx(c, x,
            [branch0.ExportOnnx(c, x).Name, ChainOnnx(c, branch1, x).Name], conv2d, scale, relu is not null);

        protected override void Dispose(bool disposing)
        {
            if (disposing) { branch0.Dispose(); branch1.Dispose(); conv2d.Dispose(); relu?.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Reduction-A (facenet reduction_a with k=192, l=192, m=256, n=384): 256 -> 896 channels, stride 2 VALID.</summary>
    internal sealed class Mixed6a : nn.Module<Tensor, Tensor>
    {
        private readonly BasicConv2d branch0;
        private readonly Sequential branch1;
        private readonly MaxPool2d branch2;

        public Mixed6a() : base(nameof(Mixed6a))
        {
            branch0 = new BasicConv2d(256, 384, (3, 3), 2, (0, 0));
            branch1 = nn.Sequential(new BasicConv2d(256, 192, (1, 1), 1, (0, 0)), new BasicConv2d(192, 192, (3, 3), 1, (1, 1)),
                new BasicConv2d(192, 256, (3, 3), 2, (0, 0)));
            branch2 = nn.MaxPool2d(3, stride: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            // 384 + 256 + 256 = 896 channels
            return cat([branch0.forward(x), branch1.forward(x), branch2.forward(x)], 1).MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
        {
            var b0 = branch0.ExportOnnx(c, x);
            var b1 = ChainOnnx(c, branch1, x);
            var b2 = MaxPoolOnnx(c, x);
            return b0 with { Name = c.Builder.Concat(1, b0.Name, b1.Name, b2.Name) };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { branch0.Dispose(); branch1.Dispose(); branch2.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Reduction-B (facenet reduction_b): 896 -> 1792 channels, stride 2 VALID.</summary>
    internal sealed class Mixed7a : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential branch0;
        private readonly Sequential branch1;
        private readonly Sequential branch2;
        private readonly MaxPool2d branch3;

        public Mixed7a() : base(nameof(Mixed7a))
        {
            branch0 = nn.Sequential(new BasicConv2d(896, 256, (1, 1), 1, (0, 0)), new BasicConv2d(256, 384, (3, 3), 2, (0, 0)));
            branch1 = nn.Sequential(new BasicConv2d(896, 256, (1, 1), 1, (0, 0)), new BasicConv2d(256, 256, (3, 3), 2, (0, 0)));
            branch2 = nn.Sequential(new BasicConv2d(896, 256, (1, 1), 1, (0, 0)), new BasicConv2d(256, 256, (3, 3), 1, (1, 1)),
                new BasicConv2d(256, 256, (3, 3), 2, (0, 0)));
            branch3 = nn.MaxPool2d(3, stride: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            // 384 + 256 + 256 + 896 = 1792 channels
            return cat([branch0.forward(x), branch1.forward(x), branch2.forward(x), branch3.forward(x)], 1).MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
        {
            var b0 = ChainOnnx(c, branch0, x);
            var b1 = ChainOnnx(c, branch1, x);
            var b2 = ChainOnnx(c, branch2, x);
            var b3 = MaxPoolOnnx(c, x);
            return b0 with { Name = c.Builder.Concat(1, b0.Name, b1.Name, b2.Name, b3.Name) };
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { branch0.Dispose(); branch1.Dispose(); branch2.Dispose(); branch3.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
