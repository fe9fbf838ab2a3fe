using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests.Imaging;

public sealed class ImageResizeTests
{
    /// <summary>A one-row (or one-column) grey image with the given values.</summary>
    private static RgbImage Row(params byte[] values) =>
        new(values.Length, 1, [.. values.SelectMany(v => new[] { v, v, v })]);

    private static float[] Red(float[] chw, int n) => chw[..n];

    [Fact]
    public void AreaIntegerShrinkIsBlockMean()
    {
        // 4x2 -> 2x1: each output is the mean of a 2x2 block.
        byte[] px = new byte[4 * 2 * 3];
        byte[] grey = [10, 20, 30, 40, 50, 60, 70, 80];
        for (int i = 0; i < 8; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = grey[i];
        var img = new RgbImage(4, 2, px);
        var chw = ImageResize.ResizeToChw(img, PixelRect.Of(img), 2, 1, 0f, 1f);
        Assert.Equal([(10 + 20 + 50 + 60) / 4f, (30 + 40 + 70 + 80) / 4f], Red(chw, 2));
    }

    [Fact]
    public void AreaFractionalShrinkWeighsCoveredFractions()
    {
        // 3 -> 2: output 0 covers [0, 1.5): p0 + half of p1, output 1 covers [1.5, 3).
        var chw = ImageResize.ResizeToChw(Row(30, 60, 90), new PixelRect(0, 0, 3, 1), 2, 1, 0f, 1f);
        Assert.Equal((30 + 0.5f * 60) / 1.5f, chw[0], 4);
        Assert.Equal((0.5f * 60 + 90) / 1.5f, chw[1], 4);
    }

    [Fact]
    public void AreaEnlargeSplitsStraddlingPixels()
    {
        // 2 -> 3 (OpenCV INTER_AREA when enlarging): output 1 covers [2/3, 4/3): one third of each source pixel.
        var chw = ImageResize.ResizeToChw(Row(30, 90), new PixelRect(0, 0, 2, 1), 3, 1, 0f, 1f);
        Assert.Equal([30f, 60f, 90f], chw[..3].Select(v => MathF.Round(v, 4)).ToArray());
    }

    [Fact]
    public void RegionOutsideImageIsZeroPaddedBeforeNormalising()
    {
        // Region x = -2..1 over a 2-pixel image of 200: the left half reads black (0), like MTCNN's pad step.
        var chw = ImageResize.ResizeToChw(Row(200, 200), new PixelRect(-2, 0, 4, 1), 2, 1, 127.5f, 0.0078125f);
        Assert.Equal((0 - 127.5f) * 0.0078125f, chw[0], 6);
        Assert.Equal((200 - 127.5f) * 0.0078125f, chw[1], 6);
    }

    [Fact]
    public void ChwLayoutIsChannelPlanes()
    {
        // 2x1 image (R,G,B) = (1,2,3), (4,5,6) kept at its size: planes R R, G G, B B.
        var img = new RgbImage(2, 1, [1, 2, 3, 4, 5, 6]);
        var chw = ImageResize.ResizeToChw(img, PixelRect.Of(img), 2, 1, 0f, 1f);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], chw);
        var hwc = new float[6];
        ImageResize.ResizeToHwc(img, PixelRect.Of(img), 2, 1, 1f, 2f, hwc);
        Assert.Equal([0f, 2f, 4f, 6f, 8f, 10f], hwc);
    }

    [Fact]
    public void TriangleMatchesPilBilinearWeights()
    {
        // PIL BILINEAR 4 -> 2 (scale 2, support 2): output 0 centre 1.0 reads pixels 0..2 with triangle weights
        // 0.75, 0.75, 0.25 (normalised 3/7, 3/7, 1/7); output 1 centre 3.0 reads 1..3 with 1/7, 3/7, 3/7.
        var img = Row(0, 70, 140, 210);
        var chw = ImageResize.ResizeToChw(img, PixelRect.Of(img), 2, 1, 0f, 1f, ResizeKernel.Triangle);
        Assert.Equal((0 * 3 + 70 * 3 + 140) / 7f, chw[0], 3);
        Assert.Equal((70 + 140 * 3 + 210 * 3) / 7f, chw[1], 3);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ConstantImageStaysConstantAtAnyScale(int kernelIndex)
    {
        var kernel = (ResizeKernel)kernelIndex; // ResizeKernel is internal: xunit theories need public parameter types
        var px = Enumerable.Repeat((byte)77, 37 * 23 * 3).ToArray();
        var img = new RgbImage(37, 23, px);
        foreach (var (w, h) in new[] { (5, 3), (12, 12), (37, 23), (80, 51) })
        {
            var resized = ImageResize.Resize(img, PixelRect.Of(img), w, h, kernel);
            Assert.All(resized.Pixels, v => Assert.Equal(77, v));
        }
    }

    [Fact]
    public void ResizeIntoBatchSlot()
    {
        var img = new RgbImage(2, 2, Enumerable.Repeat((byte)100, 12).ToArray());
        var batch = new float[2 * 3 * 1 * 1];
        ImageResize.ResizeToChw(img, PixelRect.Of(img), 1, 1, 0f, 1f, batch.AsSpan(3));
        Assert.Equal([0f, 0f, 0f, 100f, 100f, 100f], batch);
    }

    [Fact]
    public void AreaMatchesDirectOverlapSumIncludingPadding()
    {
        // Direct 2-D definition: out(ox, oy) = sum over source pixels of overlap_x * overlap_y * value / (sx * sy),
        // value 0 outside the image. Regions stick out on every side; sizes shrink and enlarge.
        var rng = new Random(11);
        var px = new byte[23 * 17 * 3];
        rng.NextBytes(px);
        var img = new RgbImage(23, 17, px);
        var cases = new (PixelRect Region, int W, int H)[]
        {
            (new(-5, -3, 30, 25), 7, 9), (new(10, 8, 20, 15), 13, 4), (new(-2, 4, 9, 5), 20, 11), (new(0, 0, 23, 17), 23, 17),
        };
        foreach (var (region, w, h) in cases)
        {
            var chw = ImageResize.ResizeToChw(img, region, w, h, 0f, 1f);
            double sx = (double)region.Width / w, sy = (double)region.Height / h;
            for (int c = 0; c < 3; c++)
                for (int oy = 0; oy < h; oy++)
                    for (int ox = 0; ox < w; ox++)
                    {
                        double sum = 0;
                        for (int j = 0; j < region.Height; j++)
                            for (int i = 0; i < region.Width; i++)
                            {
                                int x = region.X + i, y = region.Y + j;
                                if (x < 0 || y < 0 || x >= 23 || y >= 17) continue;
                                double ovx = Math.Max(0, Math.Min(i + 1, (ox + 1) * sx) - Math.Max(i, ox * sx));
                                double ovy = Math.Max(0, Math.Min(j + 1, (oy + 1) * sy) - Math.Max(j, oy * sy));
                                sum += ovx * ovy * px[(y * 23 + x) * 3 + c];
                            }
                        Assert.Equal(sum / (sx * sy), chw[c * w * h + oy * w + ox], 2);
                    }
        }
    }
}
