using FaceNetSharp.Imaging;

namespace FaceNetSharp.Alignment;

/// <summary>Inverse-mapped warps of <see cref="RgbImage"/>s with bilinear sampling; outside the image is black.</summary>
internal static class ImageWarp
{
    /// <summary>
    /// The output image of <paramref name="outW"/> x <paramref name="outH"/> whose pixel (u, v) samples the source at
    /// <c>imageToOutput.Inverse()(u, v)</c>. Pixel centres are at integer coordinates in both images (pixel (0, 0)
    /// is the point (0, 0)), the convention of OpenCV's <c>warpAffine</c> and skimage's <c>warp</c>, and the one that
    /// reproduces the golden chips. Bilinear weights; a neighbour outside the source counts as black, so edges fade
    /// over one pixel. Values are rounded to the nearest integer.
    /// </summary>
    public static RgbImage WarpSimilarity(RgbImage src, SimilarityTransform imageToOutput, int outW, int outH)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outW, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outH, 1);
        var inv = imageToOutput.Inverse();
        var dst = new byte[checked(outW * outH * 3)];
        byte[] px = src.Pixels;
        int w = src.Width, h = src.Height, stride = w * 3;

        // Source point of (u, v): x = A u - B v + Tx, y = B u + A v + Ty; both are linear in u along a row.
        double dxu = inv.A, dyu = inv.B;
        int d = 0;
        for (int v = 0; v < outH; v++)
        {
            double x = -inv.B * v + inv.Tx;
            double y = inv.A * v + inv.Ty;
            for (int u = 0; u < outW; u++, x += dxu, y += dyu, d += 3)
            {
                double fx0 = Math.Floor(x), fy0 = Math.Floor(y);
                if (fx0 < -1 || fy0 < -1 || fx0 >= w || fy0 >= h)
                    continue; // all four neighbours outside: black (already 0)
                int x0 = (int)fx0, y0 = (int)fy0;
                float fx = (float)(x - fx0), fy = (float)(y - fy0);
                float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
                float r = 0, g = 0, b = 0;
                if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h)
                {
                    int p = y0 * stride + x0 * 3;
                    int q = p + stride;
                    r = w00 * px[p] + w10 * px[p + 3] + w01 * px[q] + w11 * px[q + 3];
                    g = w00 * px[p + 1] + w10 * px[p + 4] + w01 * px[q + 1] + w11 * px[q + 4];
                    b = w00 * px[p + 2] + w10 * px[p + 5] + w01 * px[q + 2] + w11 * px[q + 5];
                }
                else
                {
                    Accumulate(px, w, h, x0, y0, w00, ref r, ref g, ref b);
                    Accumulate(px, w, h, x0 + 1, y0, w10, ref r, ref g, ref b);
                    Accumulate(px, w, h, x0, y0 + 1, w01, ref r, ref g, ref b);
                    Accumulate(px, w, h, x0 + 1, y0 + 1, w11, ref r, ref g, ref b);
                }
                dst[d] = (byte)Math.Min(255, (int)(r + 0.5f));
                dst[d + 1] = (byte)Math.Min(255, (int)(g + 0.5f));
                dst[d + 2] = (byte)Math.Min(255, (int)(b + 0.5f));
            }
        }
        return new RgbImage(outW, outH, dst);
    }

    private static void Accumulate(byte[] px, int w, int h, int x, int y, float weight, ref float r, ref float g, ref float b)
    {
        if ((uint)x >= (uint)w || (uint)y >= (uint)h) return;
        int p = (y * w + x) * 3;
        r += weight * px[p];
        g += weight * px[p + 1];
        b += weight * px[p + 2];
    }
}
