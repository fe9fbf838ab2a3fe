using FaceNetSharp.Training.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Networks;

/// <summary>Options for <see cref="MobileFaceNet"/>.</summary>
/// <param name="EmbeddingSize">Width of the final linear 1x1 conv; the pretrained default embedder has 192.</param>
/// <param name="FoldedBatchNorm">
/// True: every conv has a bias and there is no batch norm, the form of the pretrained TFLite weights (batch norm
/// folded into the conv biases), for fine-tuning them. False: conv without bias followed by batch norm, for training
/// from scratch (sirius-ai's slim settings: epsilon 2e-5, decay 0.995, with scale and centre).
/// </param>
public sealed record MobileFaceNetOptions(int EmbeddingSize = 192, bool FoldedBatchNorm = false);

/// <summary>
/// MobileFaceNet (Chen et al. 2018) as in sirius-ai/MobileFaceNet_TF, the architecture of the default embedder
/// (MobileFaceNet.tflite, 192-d). Input [N, 3, 112, 112] RGB standardised as <c>(x - 127.5) / 128</c>; output
/// [N, EmbeddingSize], not normalised.
/// </summary>
/// <remarks>
/// Layout, read from the TFLite graph and from sirius-ai's nets/MobileFaceNet.py (_CONV_DEFS):
/// <code>
/// conv1     3x3/2 conv 3->64 + PReLU                          112 -> 56
/// conv2_dw  3x3/1 depthwise 64 + PReLU
/// conv2_pw  1x1 conv 64->64, linear
/// stage2    5 bottlenecks, expand x2 (64*2=128), out 64, first stride 2   56 -> 28
/// stage3    1 bottleneck,  expand x4 (64*4=256), out 128, stride 2        28 -> 14
/// stage4    6 bottlenecks, expand x2 (128*2=256), out 128                 14
/// stage5    1 bottleneck,  expand x4 (128*4=512), out 128, stride 2       14 -> 7
/// stage6    2 bottlenecks, expand x2 (256), out 128                        7
/// conv7     1x1 conv 128->512 + PReLU
/// gdc_dw    7x7 depthwise 512, VALID, linear ("global depthwise conv")     7 -> 1
/// gdc_pw    1x1 conv 512->512, linear
/// linear    1x1 conv 512->EmbeddingSize, linear; squeezed to [N, E]
/// </code>
/// A bottleneck is 1x1 expand + PReLU, 3x3 depthwise + PReLU, 1x1 project (linear), plus the input when the
/// stride is 1 (the expansion uses the stage's INPUT width times the ratio for every block, as sirius-ai does).
/// Every conv is followed by batch norm (or has it folded in). Stride-2 convs use TF "SAME" padding, which is
/// asymmetric: 0 before, 1 after on even sizes (<see cref="TfSamePadding"/>). PReLU alphas start at 0.25
/// (sirius-ai's prelu); the TFLite graph writes PReLU as <c>relu(x) + m*(x - |x|)</c>, so alpha = 2m on import.
/// </remarks>
public sealed class MobileFaceNet : EmbeddingNetwork
{
    // sirius-ai mobilenet_v2_arg_scope: batch_norm epsilon 2e-5, decay 0.995 (PyTorch momentum = 1 - decay).
    internal const double BatchNormEpsilon = 2e-5;
    internal const double BatchNormMomentum = 1 - 0.995;
    // sirius-ai prelu(): tf.constant(0.25) initial alphas.
    internal const double PReluInit = 0.25;

    private readonly ConvUnit conv1;
    private readonly ConvUnit conv2_dw;
    private readonly ConvUnit conv2_pw;
    private readonly Sequential stage2;
    private readonly Sequential stage3;
    private readonly Sequential stage4;
    private readonly Sequential stage5;
    private readonly Sequential stage6;
    private readonly ConvUnit conv7;
    private readonly ConvUnit gdc_dw;
    private readonly ConvUnit gdc_pw;
    private readonly ConvUnit linear;

    /// <summary>A new network with freshly initialised weights.</summary>
    /// <param name="options">Its settings; null: the defaults.</param>
    public MobileFaceNet(MobileFaceNetOptions? options = null) : base(nameof(MobileFaceNet))
    {
        Options = options ?? new MobileFaceNetOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.EmbeddingSize, 1);
        bool folded = Options.FoldedBatchNorm;
        conv1 = new ConvUnit(3, 64, 3, 2, groups: 1, prelu: true, folded);
        conv2_dw = new ConvUnit(64, 64, 3, 1, groups: 64, prelu: true, folded);
        conv2_pw = new ConvUnit(64, 64, 1, 1, groups: 1, prelu: false, folded);
        stage2 = Stage(64, 64, ratio: 2, stride: 2, repeat: 5, folded);
        stage3 = Stage(64, 128, ratio: 4, stride: 2, repeat: 1, folded);
        stage4 = Stage(128, 128, ratio: 2, stride: 1, repeat: 6, folded);
        stage5 = Stage(128, 128, ratio: 4, stride: 2, repeat: 1, folded);
        stage6 = Stage(128, 128, ratio: 2, stride: 1, repeat: 2, folded);
        conv7 = new ConvUnit(128, 512, 1, 1, groups: 1, prelu: true, folded);
        gdc_dw = new ConvUnit(512, 512, 7, 1, groups: 512, prelu: false, folded, valid: true);
        gdc_pw = new ConvUnit(512, 512, 1, 1, groups: 1, prelu: false, folded);
        linear = new ConvUnit(512, Options.EmbeddingSize, 1, 1, groups: 1, prelu: false, folded);
        RegisterComponents();
    }

    /// <summary>The settings the network was built with.</summary>
    public MobileFaceNetOptions Options { get; }

    /// <inheritdoc/>
    public override int EmbeddingSize => Options.EmbeddingSize;

    /// <summary>112: the 7x7 global depthwise conv needs a 7x7 map, i.e. a 112x112 input.</summary>
    public override int InputSize => 112;

    /// <summary>The embeddings (N x <see cref="EmbeddingSize"/>, not normalised) of a batch of images (N x 3 x S x S).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = conv1.forward(x);       // N x 64 x 56 x 56
        x = conv2_dw.forward(x);    // N x 64 x 56 x 56
        x = conv2_pw.forward(x);    // N x 64 x 56 x 56
        x = stage2.forward(x);      // N x 64 x 28 x 28
        x = stage3.forward(x);      // N x 128 x 14 x 14
        x = stage4.forward(x);      // N x 128 x 14 x 14
        x = stage5.forward(x);      // N x 128 x 7 x 7
        x = stage6.forward(x);      // N x 128 x 7 x 7
        x = conv7.forward(x);       // N x 512 x 7 x 7
        x = gdc_dw.forward(x);      // N x 512 x 1 x 1
        x = gdc_pw.forward(x);      // N x 512 x 1 x 1
        x = linear.forward(x);      // N x E x 1 x 1
        return x.flatten(1).MoveToOuterDisposeScope(); // N x E
    }

    internal override OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
    {
        foreach (var unit in new[] { conv1, conv2_dw, conv2_pw }) x = unit.ExportOnnx(c, x);
        foreach (var stage in new[] { stage2, stage3, stage4, stage5, stage6 })
            foreach (var block in stage.children().Cast<Bottleneck>()) x = block.ExportOnnx(c, x);
        foreach (var unit in new[] { conv7, gdc_dw, gdc_pw, linear }) x = unit.ExportOnnx(c, x);
        return new OnnxValue(c.Builder.Flatten(x.Name), 0, 0); // N x E
    }

    private static Sequential Stage(int input, int output, int ratio, int stride, int repeat, bool folded)
    {
        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < repeat; i++)
            blocks.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new Bottleneck(i == 0 ? input : output, output, input * ratio, i == 0 ? stride : 1, folded)));
        return nn.Sequential(blocks);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose(); conv2_dw.Dispose(); conv2_pw.Dispose();
            stage2.Dispose(); stage3.Dispose(); stage4.Dispose(); stage5.Dispose(); stage6.Dispose();
            conv7.Dispose(); gdc_dw.Dispose(); gdc_pw.Dispose(); linear.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Conv (TF SAME or VALID) + batch norm (unless folded) + PReLU (optional).</summary>
    internal sealed class ConvUnit : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly BatchNorm2d? bn;
        private readonly PReLU? prelu;
        private readonly long kernel;
        private readonly long stride;
        private readonly bool valid;
        private readonly long groups;
        private readonly long ownPadding;

        public ConvUnit(long input, long output, long kernel, long stride, long groups, bool prelu, bool folded, bool valid = false)
            : base(nameof(ConvUnit))
        {
            this.kernel = kernel;
            this.stride = stride;
            this.valid = valid;
            // Stride 1 with an odd kernel: TF SAME is symmetric, so the conv pads itself.
            this.groups = groups;
            ownPadding = !valid && stride == 1 ? (kernel - 1) / 2 : 0;
            conv = nn.Conv2d(input, output, kernel, stride: stride, padding: ownPadding, groups: groups, bias: folded);
            bn = folded ? null : nn.BatchNorm2d(output, eps: BatchNormEpsilon, momentum: BatchNormMomentum);
            this.prelu = prelu ? nn.PReLU(output, PReluInit) : null;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            if (!valid && stride > 1)
            {
                var (top, bottom) = TfSamePadding.Compute(x.shape[2], kernel, stride);
                var (left, right) = TfSamePadding.Compute(x.shape[3], kernel, stride);
                if (top + bottom + left + right > 0)
                    x = nn.functional.pad(x, [left, right, top, bottom]);
            }
            x = conv.forward(x);
            if (bn is not null) x = bn.forward(x);
            if (prelu is not null) x = prelu.forward(x);
            return x.MoveToOuterDisposeScope();
        }

        /// <summary>Writes conv (batch norm folded in, TF SAME padding made explicit) and PReLU into the graph.</summary>
        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
        {
            long top = ownPadding, bottom = ownPadding, left = ownPadding, right = ownPadding;
            if (!valid && stride > 1)
            {
                (top, bottom) = TfSamePadding.Compute(x.Height, kernel, stride);
                (left, right) = TfSamePadding.Compute(x.Width, kernel, stride);
            }
            var (w, b) = bn is null
                ? (c.Constant("w", conv.weight!), c.Constant("b", conv.bias!))
                : c.FoldBatchNorm(conv.weight!, conv.bias, bn.weight, bn.bias, bn.running_mean!, bn.running_var!, BatchNormEpsilon);
            var y = c.Builder.Conv(x.Name, w, b, (int)stride, [top, left, bottom, right], (int)groups);
            if (prelu is not null)
            {
                using var scope = NewDisposeScope();
                y = c.Builder.PRelu(y, c.Constant("alpha", prelu.weight.reshape(-1, 1, 1)));   // C x 1 x 1
            }
            return new OnnxValue(y,
                OnnxExportContext.OutputSize(x.Height, kernel, stride, top, bottom),
                OnnxExportContext.OutputSize(x.Width, kernel, stride, left, right));
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { conv.Dispose(); bn?.Dispose(); prelu?.Dispose(); }
            base.Dispose(disposing);
        }
    }

    /// <summary>Inverted residual: 1x1 expand + PReLU, 3x3 depthwise + PReLU, 1x1 linear projection, + input when stride 1.</summary>
    internal sealed class Bottleneck : nn.Module<Tensor, Tensor>
    {
        private readonly ConvUnit expand;
        private readonly ConvUnit dw;
        private readonly ConvUnit project;
        private readonly bool residual;

        public Bottleneck(int input, int output, int expanded, int stride, bool folded) : base(nameof(Bottleneck))
        {
            // sirius-ai inverted_block: a stride-1 block with input != output would add a 1x1 projection of the
            // input; no block of this architecture has that, so it is not built.
            if (stride == 1 && input != output)
                throw new ArgumentException("a stride-1 bottleneck needs input == output here");
            expand = new ConvUnit(input, expanded, 1, 1, groups: 1, prelu: true, folded);
            dw = new ConvUnit(expanded, expanded, 3, stride, groups: expanded, prelu: true, folded);
            project = new ConvUnit(expanded, output, 1, 1, groups: 1, prelu: false, folded);
            residual = stride == 1;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = expand.forward(x);   // N x expanded x H x W
            y = dw.forward(y);           // N x expanded x H/s x W/s
            y = project.forward(y);      // N x output x H/s x W/s
            if (residual) y = y + x;
            return y.MoveToOuterDisposeScope();
        }

        internal OnnxValue ExportOnnx(OnnxExportContext c, OnnxValue x)
        {
            var y = project.ExportOnnx(c, dw.ExportOnnx(c, expand.ExportOnnx(c, x)));
            return residual ? y with { Name = c.Builder.Add(y.Name, x.Name) } : y;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { expand.Dispose(); dw.Dispose(); project.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
