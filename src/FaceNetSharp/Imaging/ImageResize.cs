using System.Buffers;
using System.Numerics.Tensors;

namespace FaceNetSharp.Imaging;

/// <summary>How <see cref="ImageResize"/> weighs source pixels.</summary>
internal enum ResizeKernel
{
    /// <summary>
    /// Pixel-area averaging (a box filter with exact overlaps): each output pixel is the mean of the source area it
    /// covers, partial pixels weighted by their covered fraction, in float, without rounding. Close to OpenCV's
    /// <c>INTER_AREA</c> when shrinking, but not its arithmetic (OpenCV rounds uint8 results, has an integer-factor path
    /// and enlarges bilinearly): MTCNN's facenet-exact resampling is <see cref="OpenCvResize"/>.
    /// </summary>
    Area,

    /// <summary>
    /// PIL's <c>BILINEAR</c> resize: a triangle kernel whose support widens with the shrink factor (anti-aliased),
    /// centred at <c>(o + 0.5) * scale</c>. scipy's <c>misc.imresize(..., interp='bilinear')</c>, which facenet's
    /// crop alignment calls, resizes through PIL. Intermediate values stay float (PIL rounds to 8 bits between passes).
    /// </summary>
    Triangle,

    /// <summary>
    /// PIL's <c>BOX</c> resize: weight 1 for every source pixel whose centre falls inside the output pixel's footprint
    /// (no fractional overlaps), nearest-neighbour when enlarging. The independent reference behind
    /// ../shared/data/golden/pipeline_hopkins.json resized with it.
    /// </summary>
    PilBox,
}

/// <summary>
/// Separable resampling of a rectangle of an <see cref="RgbImage"/> with precomputed per-axis weights: first along
/// rows into a small ring of float rows, then down columns. Pixels of the rectangle outside the image count as 0 (black).
/// Coordinates: pixel i covers [i, i+1); output pixel o of a rectangle of length L resized to N covers
/// [o * L/N, (o+1) * L/N) of the rectangle. Thread-safe (no shared state).
/// </summary>
internal static class ImageResize
{
    /// <summary>
    /// Resizes <paramref name="region"/> of <paramref name="src"/> to <paramref name="outW"/> x <paramref name="outH"/>
    /// and returns planar floats, channel-major R, G, B (<c>[c * outH * outW + y * outW + x]</c>), each value
    /// <c>(v - mean) * scale</c> where v is the resampled 0..255 value (0 outside the image).
    /// </summary>
    public static float[] ResizeToChw(RgbImage src, PixelRect region, int outW, int outH, float mean, float scale,
        ResizeKernel kernel = ResizeKernel.Area)
    {
        var result = new float[checked(3 * outW * outH)];
        ResizeToChw(src, region, outW, outH, mean, scale, result, kernel);
        return result;
    }

    /// <summary>As <see cref="ResizeToChw(RgbImage, PixelRect, int, int, float, float, ResizeKernel)"/>, writing into
    /// the first <c>3 * outW * outH</c> floats of <paramref name="destination"/> (e.g. one slot of a batch tensor).</summary>
    public static void ResizeToChw(RgbImage src, PixelRect region, int outW, int outH, float mean, float scale,
        Span<float> destination, ResizeKernel kernel = ResizeKernel.Area) =>
        Resample(src, region, outW, outH, kernel, new ChwSink(destination, outW, outH, mean, scale));

    /// <summary>As the CHW variant, but interleaved (<c>[(y * outW + x) * 3 + c]</c>), for NHWC networks.</summary>
    public static void ResizeToHwc(RgbImage src, PixelRect region, int outW, int outH, float mean, float scale,
        Span<float> destination, ResizeKernel kernel = ResizeKernel.Area) =>
        Resample(src, region, outW, outH, kernel, new HwcSink(destination, outW, mean, scale));

    /// <summary>Resizes <paramref name="region"/> of <paramref name="src"/> to an 8-bit image (values rounded to nearest).</summary>
    public static RgbImage Resize(RgbImage src, PixelRect region, int outW, int outH, ResizeKernel kernel)
    {
        var pixels = new byte[checked(3 * outW * outH)];
        Resample(src, region, outW, outH, kernel, new ByteSink(pixels, outW));
        return new RgbImage(outW, outH, pixels);
    }

    private interface IRowSink
    {
        /// <summary>Receives output row <paramref name="y"/>, interleaved RGB floats in 0..255 units.</summary>
        void Row(int y, ReadOnlySpan<float> rgb);
    }

    private readonly ref struct ChwSink(Span<float> dst, int w, int h, float mean, float scale) : IRowSink
    {
        private readonly Span<float> _dst = dst[..(3 * w * h)];

        public void Row(int y, ReadOnlySpan<float> rgb)
        {
            int plane = w * h;
            var r = _dst.Slice(y * w, w);
            var g = _dst.Slice(plane + y * w, w);
            var b = _dst.Slice(2 * plane + y * w, w);
            for (int x = 0, i = 0; x < w; x++, i += 3)
            {
                r[x] = (rgb[i] - mean) * scale;
                g[x] = (rgb[i + 1] - mean) * scale;
                b[x] = (rgb[i + 2] - mean) * scale;
            }
        }
    }

    private readonly ref struct HwcSink(Span<float> dst, int w, float mean, float scale) : IRowSink
    {
        private readonly Span<float> _dst = dst;

        public void Row(int y, ReadOnlySpan<float> rgb)
        {
            var row = _dst.Slice(y * w * 3, w * 3);
            TensorPrimitives.Subtract(rgb, mean, row);
            TensorPrimitives.Multiply(row, scale, row);
        }
    }

    private readonly struct ByteSink(byte[] dst, int w) : IRowSink
    {
        public void Row(int y, ReadOnlySpan<float> rgb)
        {
            var row = dst.AsSpan(y * w * 3, w * 3);
            for (int i = 0; i < row.Length; i++)
                row[i] = (byte)Math.Clamp((int)(rgb[i] + 0.5f), 0, 255);
        }
    }

    private static void Resample<TSink>(RgbImage src, PixelRect region, int outW, int outH, ResizeKernel kernel, TSink sink)
        where TSink : IRowSink, allows ref struct
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outW, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outH, 1);
        if (region.Width < 1 || region.Height < 1)
            throw new ArgumentException($"region {region} is empty", nameof(region));

        var wx = AxisWeights.Create(region.X, region.Width, outW, src.Width, kernel);
        var wy = AxisWeights.Create(region.Y, region.Height, outH, src.Height, kernel);

        // Source rows are resampled along x once each, into a ring of Taps rows: the window of rows an output row reads
        // only moves forward (both kernels' windows are monotonic), so a row's slot is free again once it has left.
        int rowLen = outW * 3;
        int ring = wy.Taps;
        float[] tmp = ArrayPool<float>.Shared.Rent(ring * rowLen);
        float[] acc = ArrayPool<float>.Shared.Rent(rowLen);
        try
        {
            byte[] px = src.Pixels;
            int stride = src.Width * 3;
            var accRow = acc.AsSpan(0, rowLen);
            int nextRow = int.MinValue; // first source row not yet resampled
            for (int oy = 0; oy < outH; oy++)
            {
                accRow.Clear();
                int start = wy.Start[oy], n = wy.Count[oy], wBase = oy * wy.Taps;
                for (int row = Math.Max(nextRow, start); row < start + n; row++)
                    HorizontalPass(px.AsSpan(row * stride, stride), wx, tmp.AsSpan(row % ring * rowLen, rowLen));
                if (n > 0) nextRow = Math.Max(nextRow, start + n);
                for (int k = 0; k < n; k++)
                {
                    var srcRow = tmp.AsSpan((start + k) % ring * rowLen, rowLen);
                    TensorPrimitives.MultiplyAdd(srcRow, wy.Weights[wBase + k], accRow, accRow);
                }
                sink.Row(oy, accRow);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tmp);
            ArrayPool<float>.Shared.Return(acc);
        }
    }

    private static unsafe void HorizontalPass(ReadOnlySpan<byte> row, AxisWeights wx, Span<float> dst)
    {
        // Hot loop of detection (every pyramid level reads every source pixel): pointers, no bounds checks.
        // Safe because AxisWeights keeps Start[o] + Count[o] <= image width and Count[o] <= Taps.
        int outW = wx.Start.Length, taps = wx.Taps;
        fixed (byte* rowP = row)
        fixed (float* dstP = dst, weightP = wx.Weights)
        fixed (int* startP = wx.Start, countP = wx.Count)
        {
            float* d = dstP;
            for (int ox = 0; ox < outW; ox++, d += 3)
            {
                int n = countP[ox];
                byte* p = rowP + startP[ox] * 3;
                float* w = weightP + ox * taps;
                float r = 0, g = 0, b = 0;
                for (int k = 0; k < n; k++, p += 3)
                {
                    float wk = w[k];
                    r += wk * p[0];
                    g += wk * p[1];
                    b += wk * p[2];
                }
                d[0] = r;
                d[1] = g;
                d[2] = b;
            }
        }
    }

    /// <summary>
    /// Weights of one axis: output o reads source pixels <c>Start[o] .. Start[o]+Count[o]-1</c> (absolute image
    /// indices, all inside the image) with <c>Weights[o * Taps + k]</c>. Taps outside the image are dropped, which is
    /// the same as reading zeros there.
    /// </summary>
    internal sealed class AxisWeights
    {
        private AxisWeights(int[] start, int[] count, float[] weights, int taps)
        {
            Start = start;
            Count = count;
            Weights = weights;
            Taps = taps;
        }

        public int[] Start { get; }
        public int[] Count { get; }
        public float[] Weights { get; }
        public int Taps { get; }

        public static AxisWeights Create(int regionStart, int regionLen, int outLen, int imageLen, ResizeKernel kernel)
        {
            double scale = (double)regionLen / outLen;
            // Area: an output spans `scale` source pixels, touching at most ceil(scale) + 1 of them.
            // Triangle: support radius max(scale, 1) on each side of the centre.
            double support = kernel == ResizeKernel.Area ? scale : 2 * Math.Max(scale, 1.0);
            int taps = (int)Math.Ceiling(support) + 2;
            var start = new int[outLen];
            var count = new int[outLen];
            var weights = new float[outLen * taps];
            double[] wBuf = new double[taps];

            for (int o = 0; o < outLen; o++)
            {
                int lo, hi; // region-relative source range [lo, hi)
                if (kernel == ResizeKernel.Area)
                {
                    double a = o * scale, b = (o + 1) * scale;
                    lo = (int)Math.Floor(a);
                    hi = Math.Min(regionLen, (int)Math.Ceiling(b));
                    for (int i = lo; i < hi; i++)
                        wBuf[i - lo] = (Math.Min(i + 1, b) - Math.Max(i, a)) / scale;
                }
                else
                {
                    // PIL's precompute_coeffs: the filter stretched by filterscale when shrinking, sampled at source pixel
                    // centres, normalised over the pixels inside the region. PilBox: box_filter(x) = 1 for -0.5 < x <= 0.5,
                    // support 0.5; Triangle: triangle(x) = max(0, 1 - |x|), support 1.
                    bool box = kernel == ResizeKernel.PilBox;
                    double filterScale = Math.Max(scale, 1.0);
                    double centre = (o + 0.5) * scale;
                    double radius = (box ? 0.5 : 1.0) * filterScale;
                    lo = Math.Max(0, (int)(centre - radius + 0.5));
                    hi = Math.Min(regionLen, (int)(centre + radius + 0.5));
                    double sum = 0;
                    for (int i = lo; i < hi; i++)
                    {
                        double t = (i + 0.5 - centre) / filterScale;
                        double v = box ? (t > -0.5 && t <= 0.5 ? 1 : 0) : Math.Max(0, 1 - Math.Abs(t));
                        wBuf[i - lo] = v;
                        sum += v;
                    }
                    if (sum > 0)
                        for (int i = lo; i < hi; i++) wBuf[i - lo] /= sum;
                }

                // To absolute image indices, dropping taps outside the image (they read black).
                int absLo = regionStart + lo, absHi = regionStart + hi;
                int skip = Math.Max(0, -absLo);
                int clippedLo = Math.Max(absLo, 0), clippedHi = Math.Min(absHi, imageLen);
                int n = Math.Max(0, clippedHi - clippedLo);
                start[o] = n > 0 ? clippedLo : 0;
                count[o] = n;
                for (int k = 0; k < n; k++)
                    weights[o * taps + k] = (float)wBuf[skip + k];
            }
            return new AxisWeights(start, count, weights, taps);
        }
    }
}
