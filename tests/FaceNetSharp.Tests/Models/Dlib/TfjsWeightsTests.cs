using System.Buffers.Binary;
using System.Text;
using FaceNetSharp.Models.Conversion.Dlib;

namespace FaceNetSharp.Tests.Models.Dlib;

public sealed class TfjsWeightsTests
{
    // Two groups; weights are laid out back to back across them: uint8 [2,2], uint8 [3] with scale 0,
    // float32 [2] (not quantised), uint16 [2].
    private const string Manifest = """
        [
          {"paths": ["a.bin"], "weights": [
            {"name": "w", "shape": [2, 2], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
            {"name": "b", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0, "min": 0.25}}
          ]},
          {"paths": ["b.bin"], "weights": [
            {"name": "f", "shape": [2], "dtype": "float32"},
            {"name": "h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.001, "min": 2.0}}
          ]}
        ]
        """;

    private static byte[] Data()
    {
        var bytes = new List<byte> { 0, 1, 2, 255, /* b */ 7, 200, 0 };
        var f = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(f, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(f.AsSpan(4), -3.25f);
        bytes.AddRange(f);
        var h = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(h, 1000);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), 65535);
        bytes.AddRange(h);
        return [.. bytes];
    }

    [Fact]
    public void Dequantises_uint8_as_q_times_scale_plus_min()
    {
        var w = TfjsWeights.Read(Encoding.UTF8.GetBytes(Manifest), Data());

        Assert.Equal([2, 2], w["w"].Shape);
        Assert.Equal([-1.0f, -0.5f, 0.0f, 126.5f], w["w"].Data);
        // scale 0: every value is min, whatever the stored byte.
        Assert.Equal([0.25f, 0.25f, 0.25f], w["b"].Data);
        Assert.Equal([1.5f, -3.25f], w["f"].Data);
        Assert.Equal(3.0f, w["h"].Data[0], 6);
        Assert.Equal(67.535f, w["h"].Data[1], 3);
    }

    [Fact]
    public void Lists_shards_in_manifest_order()
    {
        Assert.Equal(["a.bin", "b.bin"], TfjsWeights.ShardPaths(Encoding.UTF8.GetBytes(Manifest)));
    }

    [Fact]
    public void Rejects_data_whose_length_differs_from_the_manifest()
    {
        var data = Data();
        var ex = Assert.Throws<InvalidDataException>(() => TfjsWeights.Read(Encoding.UTF8.GetBytes(Manifest), data.AsSpan(0, data.Length - 1)));
        Assert.Contains("'h'", ex.Message);
        Assert.Throws<InvalidDataException>(() => TfjsWeights.Read(Encoding.UTF8.GetBytes(Manifest), [.. data, 0]));
    }

    [Fact]
    public void Rejects_a_malformed_manifest()
    {
        Assert.Throws<InvalidDataException>(() => TfjsWeights.Read("{}"u8, []));
        Assert.Throws<InvalidDataException>(() => TfjsWeights.Read("""[{"weights": [{"name": "x"}]}]"""u8, []));
        Assert.Throws<InvalidDataException>(() => TfjsWeights.Read("not json"u8, []));
    }
}
