using System.Security.Cryptography;
using System.Text.Json;
using FaceNetSharp.Imaging;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Imaging;

/// <summary>
/// <see cref="OpenCvResize"/> against what OpenCV 4.6's cv2.resize(INTER_AREA) returned for the same inputs
/// (Data/opencv_resize_cases.json, written by scripts/opencv-resize-cases.py with Debian's python3-opencv): every
/// uint8 pyramid case byte for byte, every float64 crop case bit for bit (by SHA-256 of its doubles).
/// </summary>
public sealed class OpenCvResizeTests(ITestOutputHelper output)
{
    private static readonly string CasesPath = Path.Combine(TestPaths.RepoRoot, "tests", "FaceNetSharp.Tests", "Imaging", "Data", "opencv_resize_cases.json");

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        int n = JsonDocument.Parse(File.ReadAllText(CasesPath)).RootElement.GetProperty("cases").GetArrayLength();
        for (int i = 0; i < n; i++) data.Add(i);
        return data;
    }

    /// <summary>The generator's source pattern (scripts/opencv-resize-cases.py source()).</summary>
    private static RgbImage Source(int w, int h, int seed, int zeroBorder)
    {
        var px = new byte[w * h * 3];
        for (int i = 0; i < px.Length; i++)
            px[i] = (byte)((uint)((ulong)i * 2654435761UL + (ulong)(seed * 97)) >> 13 & 255);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (y < zeroBorder || x < zeroBorder)
                    px.AsSpan((y * w + x) * 3, 3).Clear();
        return new RgbImage(w, h, px);
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesOpenCv(int index)
    {
        var c = JsonDocument.Parse(File.ReadAllText(CasesPath)).RootElement.GetProperty("cases")[index];
        int sw = c.GetProperty("src")[0].GetInt32(), sh = c.GetProperty("src")[1].GetInt32();
        int dw = c.GetProperty("dst")[0].GetInt32(), dh = c.GetProperty("dst")[1].GetInt32();
        var src = Source(sw, sh, c.GetProperty("seed").GetInt32(), c.GetProperty("zeroBorder").GetInt32());
        string type = c.GetProperty("type").GetString()!;
        output.WriteLine($"{type} {sw}x{sh} -> {dw}x{dh}");
        byte[] raw;
        if (type == "uint8")
        {
            raw = new byte[dw * dh * 3];
            OpenCvResize.AreaU8(src, dw, dh, raw);
            var expected = Convert.FromBase64String(c.GetProperty("data").GetString()!);
            int diff = raw.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            int count = raw.Zip(expected, (a, b) => a != b ? 1 : 0).Sum();
            output.WriteLine($"{count} of {raw.Length} values differ, by at most {diff}");
            Assert.Equal(expected, raw);
        }
        else
        {
            // The crop as MTCNN passes it: the whole source image is the region (its zero border stands for padding).
            var values = new double[dw * dh * 3];
            OpenCvResize.AreaF64(src, PixelRect.Of(src), dw, dh, values);
            raw = new byte[values.Length * 8];
            Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
            if (c.TryGetProperty("firstRow", out var first))
            {
                var row = first.EnumerateArray().Select(e => e.GetDouble()).ToArray();
                double worst = row.Select((v, i) => Math.Abs(v - values[i])).Max();
                output.WriteLine($"first row: max difference {worst:E3}");
            }
        }
        Assert.Equal(c.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(raw)));
    }

    [Fact]
    public void PaddingOutsideTheImageReadsZero()
    {
        // A 4x4 crop whose left half lies outside a 2x4 image of 200, kept at its size: zeros, then the pixels.
        var img = new RgbImage(2, 4, Enumerable.Repeat((byte)200, 2 * 4 * 3).ToArray());
        var d = new double[4 * 4 * 3];
        OpenCvResize.AreaF64(img, new PixelRect(-2, 0, 4, 4), 4, 4, d);
        Assert.Equal([0, 0, 0, 0, 0, 0, 200, 200, 200, 200, 200, 200], d[..12]);
    }
}
