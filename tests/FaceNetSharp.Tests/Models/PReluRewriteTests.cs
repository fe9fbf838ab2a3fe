using FaceNetSharp.Models;
using FaceNetSharp.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// <see cref="PReluRewrite"/>: PRelu becomes Max/Min/Relu+Min+Mul+Add, which ONNX Runtime runs vectorised, and every
/// output stays the very same float (MTCNN's boxes and chips must not move by a bit).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class PReluRewriteTests(InstalledModelsFixture fx)
{
    [Fact]
    public void Each_slope_kind_gives_PRelus_floats_bit_for_bit()
    {
        // three PRelus, one per rewrite: slopes ≤ 1 (Max), ≥ 1 (Min), on both sides of 1 (Relu + Min·s + Add)
        var b = new OnnxGraphBuilder("prelu");
        var x = b.Input("input", 1, 4, 5, 7);
        var low = b.Initializer("low", [0.25f, -0.5f, 1f, 0f], 4, 1, 1);
        var high = b.Initializer("high", [1f, 1.5f, 3.75f, 1.0000001f], 4, 1, 1);
        var mixed = b.Initializer("mixed", [-1.28f, 0.4f, 1.0117f, 0.99999994f], 4, 1, 1);
        b.Output(b.PRelu(x, low), "low_out", 1, 4, 5, 7);
        b.Output(b.PRelu(x, high), "high_out", 1, 4, 5, 7);
        b.Output(b.PRelu(x, mixed), "mixed_out", 1, 4, 5, 7);
        var model = b.ToBytes("test");
        var rewritten = PReluRewrite.Rewrite(model);

        var ops = ModelProto.Parser.ParseFrom(rewritten).Graph.Node.Select(n => n.OpType).ToList();
        Assert.DoesNotContain("PRelu", ops);
        Assert.Equal(1, ops.Count(o => o == "Max"));
        Assert.Equal(2, ops.Count(o => o == "Min")); // the ≥ 1 node, and min(x, 0) of the mixed one
        Assert.Equal(1, ops.Count(o => o == "Relu"));

        // values that probe the edges: zeros of both signs, the smallest normals and subnormals, huge values, ±1
        float[] probes = [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, 1.1754944e-38f, -1.1754944e-38f, 3e38f, -3e38f,
            1e-30f, -1e-30f, 0.1f, -0.1f, 123.456f, -123.456f, 65504f, -65504f];
        var random = new Random(7);
        var input = new DenseTensor<float>([1, 4, 5, 7]);
        for (int i = 0; i < input.Length; i++)
            input.SetValue(i, i < probes.Length ? probes[i] : (float)(random.NextDouble() * 20 - 10));
        AssertSameOutputs(model, rewritten, [("input", input)]);
    }

    [Fact]
    public void A_model_without_PRelu_comes_back_as_it_is()
    {
        var b = new OnnxGraphBuilder("relu");
        b.Output(b.Relu(b.Input("input", 1, 2)), "out", 1, 2);
        var model = b.ToBytes("test");
        Assert.Same(model, PReluRewrite.Rewrite(model));
    }

    [Fact]
    public void Bytes_that_are_not_protobuf_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => PReluRewrite.Rewrite([0x0A, 0xFF, 0xFF, 0x01]));
    }

    [SkippableTheory]
    [InlineData(ModelNames.MtcnnPNet, 1, 150, 150)] // an LFW photo's first pyramid level
    [InlineData(ModelNames.MtcnnPNet, 1, 66, 1152)] // a P-Net band of a 1080p frame's first level
    [InlineData(ModelNames.MtcnnRNet, 32, 24, 24)]
    [InlineData(ModelNames.MtcnnONet, 7, 48, 48)]
    public void MTCNN_nets_give_the_same_floats(string name, int batch, int height, int width)
    {
        var store = fx.Require();
        var model = File.ReadAllBytes(store.PathOf(name));
        var rewritten = PReluRewrite.Rewrite(model);
        var graph = ModelProto.Parser.ParseFrom(rewritten).Graph;
        Assert.DoesNotContain("PRelu", graph.Node.Select(n => n.OpType));
        // no initializer left unused (ONNX Runtime prints a warning for each on opening: O-Net has no mixed slopes, so
        // no zero for min(x, 0))
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        Assert.All(graph.Initializer, t => Assert.Contains(t.Name, used));

        // normalised pixels, (x - 127.5) * 0.0078125 of random bytes, as MTCNN feeds them
        var random = new Random(13);
        var input = new DenseTensor<float>([batch, 3, height, width]);
        for (int i = 0; i < input.Length; i++) input.SetValue(i, (random.Next(256) - 127.5f) * 0.0078125f);
        AssertSameOutputs(model, rewritten, [("input", input)]);
    }

    private static void AssertSameOutputs(byte[] original, byte[] rewritten, (string Name, DenseTensor<float> Value)[] inputs)
    {
        using var options = OnnxSessions.CreateOptions(1);
        using var a = new InferenceSession(original, options);
        using var b = new InferenceSession(rewritten, options);
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, i.Value)).ToList();
        using var ra = a.Run(feeds);
        using var rb = b.Run(feeds);
        foreach (var (outA, outB) in ra.Zip(rb))
        {
            Assert.Equal(outA.Name, outB.Name);
            var ta = outA.AsTensor<float>().ToArray();
            var tb = outB.AsTensor<float>().ToArray();
            Assert.Equal(ta.Length, tb.Length);
            for (int i = 0; i < ta.Length; i++)
                if (!(ta[i] == tb[i] || (float.IsNaN(ta[i]) && float.IsNaN(tb[i])))) // == also equates +0 and -0
                    Assert.Fail($"{outA.Name}[{i}]: {ta[i]:R} against {tb[i]:R}");
        }
    }
}
