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

    /// <summary>
    /// A crop that reaches outside the image (facenet's pad: zeros there) resizes to exactly the doubles of the same crop
    /// cut from an explicitly zero-padded copy of the image, on every resize path (shrinking by non-integer and integer
    /// factors, enlarging, same size): the area path skips the padding's taps instead of reading zeros.
    /// </summary>
    [Theory]
    [InlineData(-10, -5, 50, 50, 24)]
    [InlineData(30, 20, 60, 60, 24)]
    [InlineData(30, 20, 60, 60, 48)]
    [InlineData(-70, 3, 40, 40, 24)]
    [InlineData(-3, -3, 67, 53, 24)]
    [InlineData(5, 5, 30, 30, 24)]
    [InlineData(50, 40, 48, 48, 24)]
    [InlineData(-8, 30, 15, 15, 24)]
    [InlineData(55, 41, 24, 24, 24)]
    [InlineData(-200, -200, 500, 500, 48)]
    public void CropOutsideTheImageEqualsZeroPaddedCopy(int x, int y, int w, int h, int size)
    {
        var img = Source(61, 47, 7, 0);
        var d = new double[size * size * 3];
        OpenCvResize.AreaF64(img, new PixelRect(x, y, w, h), size, size, d);

        // the crop as facenet builds it: a zero canvas of the crop's size, the image's pixels copied where they fall
        var canvas = new byte[w * h * 3];
        for (int cy = 0; cy < h; cy++)
            for (int cx = 0; cx < w; cx++)
            {
                int ix = x + cx, iy = y + cy;
                if (ix >= 0 && ix < img.Width && iy >= 0 && iy < img.Height)
                    img.Pixels.AsSpan((iy * img.Width + ix) * 3, 3).CopyTo(canvas.AsSpan((cy * w + cx) * 3, 3));
            }
        var padded = new RgbImage(w, h, canvas);
        var expected = new double[d.Length];
        OpenCvResize.AreaF64(padded, PixelRect.Of(padded), size, size, expected);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan()).SequenceEqual(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(d.AsSpan())), "the doubles differ");
        if (x < img.Width && x + w > 0 && y < img.Height && y + h > 0) Assert.Contains(d, v => v > 0);
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
