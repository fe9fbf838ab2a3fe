using System.IO.Compression;
using System.Text;
using System.Text.Json;
using FaceNetSharp.Training.Import;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

public sealed class PyTorchStateDictTests
{
    public PyTorchStateDictTests() => TorchTest.Init();

    private static string Weights(string file) => TorchTest.Shared("weights", "timesler+facenet-pytorch", file);

    // facenet-pytorch models/mtcnn.py: PNet conv1 3->10 3x3, conv2 10->16 3x3, conv3 16->32 3x3, conv4_1 32->2, conv4_2 32->4.
    public static TheoryData<string, string, long[]> ExpectedShapes => new()
    {
        { "pnet.pt", "conv1.weight", [10, 3, 3, 3] }, { "pnet.pt", "conv1.bias", [10] }, { "pnet.pt", "prelu1.weight", [10] },
        { "pnet.pt", "conv2.weight", [16, 10, 3, 3] }, { "pnet.pt", "conv3.weight", [32, 16, 3, 3] },
        { "pnet.pt", "conv4_1.weight", [2, 32, 1, 1] }, { "pnet.pt", "conv4_2.weight", [4, 32, 1, 1] },
        // RNet: conv1 3->28, conv2 28->48, conv3 48->64 2x2, dense4 576->128, dense5_1 128->2, dense5_2 128->4.
        { "rnet.pt", "conv1.weight", [28, 3, 3, 3] }, { "rnet.pt", "conv3.weight", [64, 48, 2, 2] },
        { "rnet.pt", "dense4.weight", [128, 576] }, { "rnet.pt", "prelu4.weight", [128] }, { "rnet.pt", "dense5_2.weight", [4, 128] },
        // ONet: conv1 3->32, conv2 32->64, conv3 64->64, conv4 64->128 2x2, dense5 1152->256, dense6_1/2/3 256->2/4/10.
        { "onet.pt", "conv4.weight", [128, 64, 2, 2] }, { "onet.pt", "dense5.weight", [256, 1152] },
        { "onet.pt", "dense6_3.weight", [10, 256] }, { "onet.pt", "dense6_3.bias", [10] },
    };

    [SkippableTheory]
    [MemberData(nameof(ExpectedShapes))]
    public void Facenet_pytorch_legacy_files_load_with_the_expected_shapes(string file, string key, long[] shape)
    {
        var sd = PyTorchStateDict.Load(Weights(file));
        Assert.True(sd.ContainsKey(key), $"{file} lacks {key}; has {string.Join(", ", sd.Keys)}");
        Assert.Equal(shape, sd[key].Shape);
        Assert.Equal(shape.Aggregate(1L, (a, b) => a * b), sd[key].Data.LongLength);
        Assert.Equal("FloatStorage", sd[key].StorageType);
        Assert.All(sd[key].Data, v => Assert.True(float.IsFinite(v)));
    }

    [SkippableFact]
    public void Pnet_key_list_is_complete_and_in_file_order()
    {
        var sd = PyTorchStateDict.Load(Weights("pnet.pt"));
        Assert.Equal(["conv1.weight", "conv1.bias", "prelu1.weight", "conv2.weight", "conv2.bias", "prelu2.weight",
            "conv3.weight", "conv3.bias", "prelu3.weight", "conv4_1.weight", "conv4_1.bias", "conv4_2.weight", "conv4_2.bias"], sd.Keys);
    }

    /// <summary>
    /// Values, not just shapes: P-Net built from pnet.pt reproduces the golden P-Net outputs of the reference
    /// implementation (which ran facenet's det1 weights on a synthetic input in facenet's transposed convention;
    /// pnet.pt has the kernels' H/W swapped instead, so the input and outputs are transposed here).
    /// </summary>
    [SkippableFact]
    public void Pnet_weights_reproduce_the_golden_pnet_outputs()
    {
        var goldenPath = TorchTest.Shared("golden", "mtcnn_nets_pattern.json");
        var sd = PyTorchStateDict.Load(Weights("pnet.pt"));
        using var doc = JsonDocument.Parse(File.ReadAllText(goldenPath));
        var g = doc.RootElement.GetProperty("pnet");
        var shape = g.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(); // N H W C
        Assert.Equal(1, shape[0]);
        int h = shape[1], w = shape[2], c = shape[3];
        // input_pattern: x[n,h,w,c] = (((h*7 + w*13 + c*29 + n*31) % 256) - 127.5) * 0.0078125
        var x = new float[h * w * c];
        for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) for (int k = 0; k < c; k++)
            x[(i * w + j) * c + k] = (float)((((i * 7 + j * 13 + k * 29) % 256) - 127.5) * 0.0078125);

        using var scope = NewDisposeScope();
        Tensor T(string key) => tensor(sd[key].Data).reshape(sd[key].Shape);
        Tensor PRelu(Tensor v, string key) => v.clamp_min(0) + T(key).reshape(1, -1, 1, 1) * v.clamp_max(0);
        // NHWC (transposed image) -> NCHW of the real image: [1, c, w, h]
        var input = tensor(x).reshape(1, h, w, c).permute(0, 3, 2, 1);
        var y = PRelu(nn.functional.conv2d(input, T("conv1.weight"), T("conv1.bias")), "prelu1.weight");
        y = nn.functional.max_pool2d(y, 2, 2, ceil_mode: true);
        y = PRelu(nn.functional.conv2d(y, T("conv2.weight"), T("conv2.bias")), "prelu2.weight");
        y = PRelu(nn.functional.conv2d(y, T("conv3.weight"), T("conv3.bias")), "prelu3.weight");
        var prob = nn.functional.softmax(nn.functional.conv2d(y, T("conv4_1.weight"), T("conv4_1.bias")), 1);
        var reg = nn.functional.conv2d(y, T("conv4_2.weight"), T("conv4_2.bias"));
        // back to the golden layout [1, h', w', C]
        var regT = reg.permute(0, 3, 2, 1).contiguous().data<float>().ToArray();
        var probT = prob.permute(0, 3, 2, 1).contiguous().data<float>().ToArray();
        var goldenReg = Flatten(g.GetProperty("reg"));
        var goldenProb = Flatten(g.GetProperty("prob"));
        Assert.Equal(goldenReg.Count, regT.Length);
        Assert.Equal(goldenProb.Count, probT.Length);
        double maxDiff = goldenReg.Zip(regT).Concat(goldenProb.Zip(probT)).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(maxDiff < 1e-5, $"max abs diff {maxDiff}");
    }

    [Fact]
    public void Zip_format_written_by_pybridge_round_trips()
    {
        using var scope = NewDisposeScope();
        using var net = new MobileFaceNet(new MobileFaceNetOptions(EmbeddingSize: 32));
        net.train();
        using (no_grad()) net.forward(randn(2, 3, 112, 112)); // moves BN running stats and num_batches_tracked
        var path = Path.Combine(Path.GetTempPath(), $"fns-sd-{Guid.NewGuid():N}.pt");
        try
        {
            net.save_py(path);
            Assert.Equal("PK"u8.ToArray(), File.ReadAllBytes(path)[..2]);
            var sd = PyTorchStateDict.Load(path);
            var expected = net.state_dict();
            Assert.Equal(expected.Keys, sd.Keys);
            foreach (var (k, t) in expected)
            {
                Assert.Equal(t.shape, sd[k].Shape);
                var want = t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
                Assert.Equal(want, sd[k].Data);
            }
            Assert.Equal("LongStorage", sd["conv1.bn.num_batches_tracked"].StorageType);
            Assert.Equal(1f, sd["conv1.bn.num_batches_tracked"].Data.Single());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Zip_with_strided_offset_tensor_and_metadata_build_is_read_by_view()
    {
        // A hand-made zip-format file (own pickle): one 2x3 tensor that is the transpose (strides 1,2), offset 1,
        // of storage [0..7), plus an OrderedDict _metadata BUILD as torch.save writes it.
        var pkl = new MemoryStream();
        void B(params byte[] b) => pkl.Write(b);
        void S(string s) { var u = Encoding.UTF8.GetBytes(s); B((byte)'X'); B(BitConverter.GetBytes(u.Length)); B(u); }
        B(0x80, 2);
        B("ccollections\nOrderedDict\n"u8.ToArray()); B((byte)')', (byte)'R');
        S("w");
        B("ctorch._utils\n_rebuild_tensor_v2\n"u8.ToArray());
        B((byte)'(');
        B((byte)'('); S("storage"); B("ctorch\nFloatStorage\n"u8.ToArray()); S("0"); S("cpu"); B((byte)'K', 7); B((byte)'t', (byte)'Q');
        B((byte)'K', 1);                                 // storage offset
        B((byte)'K', 2, (byte)'K', 3, 0x86);              // size (2, 3)
        B((byte)'K', 1, (byte)'K', 2, 0x86);              // stride (1, 2)
        B(0x89);                                          // requires_grad False
        B("ccollections\nOrderedDict\n"u8.ToArray()); B((byte)')', (byte)'R'); // backward hooks
        B((byte)'t', (byte)'R');
        B((byte)'s');                                     // d["w"] = tensor
        B((byte)'}'); S("_metadata"); B((byte)'}', (byte)'s', (byte)'b'); // BUILD {'_metadata': {}}
        B((byte)'.');
        var path = Path.Combine(Path.GetTempPath(), $"fns-sd-{Guid.NewGuid():N}.pt");
        try
        {
            using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                using (var e = zip.CreateEntry("archive/data.pkl").Open()) e.Write(pkl.ToArray());
                using (var e = zip.CreateEntry("archive/data/0").Open())
                    for (int i = 0; i < 7; i++) e.Write(BitConverter.GetBytes((float)i));
                using (var e = zip.CreateEntry("archive/byteorder").Open()) e.Write("little"u8);
            }
            var sd = PyTorchStateDict.Load(path);
            // element [i, j] = storage[1 + i*1 + j*2]
            Assert.Equal(new long[] { 2, 3 }, sd["w"].Shape);
            Assert.Equal(new float[] { 1, 3, 5, 2, 4, 6 }, sd["w"].Data);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("cposix\nsystem\n", "posix.system")]
    [InlineData("cbuiltins\neval\n", "builtins.eval")]
    [InlineData("c__builtin__\napply\n", "__builtin__.apply")]
    [InlineData("ctorch.nn.modules.conv\nConv2d\n", "torch.nn.modules.conv.Conv2d")]
    public void Any_other_global_is_refused_before_anything_is_called(string global, string name)
    {
        // e.g. the classic payload: posix.system('echo pwned'), as the pickled object of a zip-format file.
        var pkl = new List<byte> { 0x80, 2 };
        pkl.AddRange(Encoding.ASCII.GetBytes(global));
        pkl.AddRange(new byte[] { (byte)'X', 10, 0, 0, 0 });
        pkl.AddRange("echo pwned"u8.ToArray());
        pkl.AddRange(new byte[] { 0x85, (byte)'R', (byte)'.' });
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var e = zip.CreateEntry("archive/data.pkl").Open()) e.Write(pkl.ToArray());
        var ex = Assert.Throws<UnsafePickleException>(() => PyTorchStateDict.Load(ms.ToArray(), "evil.pt"));
        Assert.Contains($"refused the Python global '{name}'", ex.Message);
        Assert.Contains("evil.pt", ex.Message);
    }

    [Fact]
    public void Not_a_torch_file_is_a_clear_error()
    {
        var ex = Assert.Throws<UnsafePickleException>(() => PyTorchStateDict.Load("hello"u8.ToArray(), "x.bin"));
        Assert.Contains("x.bin", ex.Message);
        // a legacy-looking pickle with the wrong magic number
        var ex2 = Assert.Throws<UnsafePickleException>(() => PyTorchStateDict.Load([0x80, 2, (byte)'K', 5, (byte)'.'], "y.pt"));
        Assert.Contains("magic", ex2.Message);
    }

    [SkippableFact]
    public void Truncated_legacy_file_is_a_clear_error()
    {
        var bytes = File.ReadAllBytes(Weights("pnet.pt"));
        var ex = Assert.Throws<UnsafePickleException>(() => PyTorchStateDict.Load(bytes[..^100], "cut.pt"));
        Assert.Contains("cut.pt", ex.Message);
    }

    private static List<double> Flatten(JsonElement e)
    {
        var r = new List<double>();
        void Walk(JsonElement x) { if (x.ValueKind == JsonValueKind.Array) foreach (var c in x.EnumerateArray()) Walk(c); else r.Add(x.GetDouble()); }
        Walk(e);
        return r;
    }
}
