using System.Buffers;

namespace FaceNetSharp.Imaging;

/// <summary>
/// OpenCV's <c>cv::resize(src, dst, dsize, 0, 0, INTER_AREA)</c> for 3-channel images, operation for operation, as
/// facenet's MTCNN calls it (<c>imresample</c> in src/align/detect_face.py): on the <b>uint8</b> image for P-Net's pyramid
/// levels (so each level is rounded to uint8), and on <b>float64</b> zero-padded crops for R-Net and O-Net.
/// </summary>
/// <remarks>
/// <para>Transcribed from OpenCV 4.6 modules/imgproc/src/resize.cpp (<c>cv::resize</c>, <c>cv::hal::resize</c>,
/// <c>computeResizeAreaTab</c>, <c>ResizeArea_Invoker</c>, <c>resizeAreaFast_Invoker</c>, <c>ResizeAreaFastVec</c>,
/// <c>resizeGeneric_Invoker</c> with <c>HResizeLinear</c>/<c>VResizeLinear</c>) and checked bit for bit against
/// Debian's python3-opencv 4.6 (tests/FaceNetSharp.Tests/Imaging/Data/opencv_resize_cases.json, made by
/// scripts/opencv-resize-cases.py). OpenCV picks one of four paths:</para>
/// <list type="bullet">
/// <item>same size: a copy;</item>
/// <item>shrinking on both axes by integer factors (<c>|1/(dw/sw) - round| &lt; DBL_EPSILON</c>): block means
/// (<c>resizeAreaFast_</c>); for uint8 2x2 blocks <c>(a+b+c+d+2) &gt;&gt; 2</c>, otherwise <c>sum * (1.f/area)</c>;</item>
/// <item>shrinking on both axes otherwise: exact pixel-area weights (<c>computeResizeAreaTab</c>, float weights),
/// accumulated in float for uint8 and in double for float64;</item>
/// <item>enlarging on either axis: OpenCV's bilinear resize with INTER_AREA's own coefficients
/// (<c>sx = floor(dx*scale)</c>, <c>fx = (dx+1) - (sx+1)/scale</c>, 0 if negative, else its fractional part), float
/// coefficients, double arithmetic for float64. (uint8 never enlarges in MTCNN: pyramid scales are at most 1.)</item>
/// </list>
/// <para>uint8 results are rounded as <c>saturate_cast&lt;uchar&gt;(float)</c>: to nearest, ties to even (cvRound).
/// Thread-safe; scratch buffers come from <see cref="ArrayPool{T}"/>.</para>
/// </remarks>
internal static class OpenCvResize
{
    // float.h DBL_EPSILON, the tolerance of hal::resize's is_area_fast test.
    private const double DblEpsilon = 2.220446049250313e-16;
    private const int Cn = 3;

    /// <summary>One entry of computeResizeAreaTab: destination index, source index, weight (float, as OpenCV).</summary>
    private struct DecimateAlpha
    {
        public int Si, Di;
        public float Alpha;
    }

    private readonly struct Plan
    {
        public Plan(int sw, int sh, int dw, int dh)
        {
            Sw = sw; Sh = sh; Dw = dw; Dh = dh;
            // cv::resize with dsize given: inv_scale = dsize / ssize; hal::resize: scale = 1 / inv_scale,
            // iscale = saturate_cast<int>(scale) (cvRound), is_area_fast when both are integers within DBL_EPSILON.
            InvX = (double)dw / sw;
            InvY = (double)dh / sh;
            ScaleX = 1.0 / InvX;
            ScaleY = 1.0 / InvY;
            IScaleX = (int)Math.Round(ScaleX, MidpointRounding.ToEven);
            IScaleY = (int)Math.Round(ScaleY, MidpointRounding.ToEven);
            AreaFast = Math.Abs(ScaleX - IScaleX) < DblEpsilon && Math.Abs(ScaleY - IScaleY) < DblEpsilon;
        }

        public int Sw { get; }
        public int Sh { get; }
        public int Dw { get; }
        public int Dh { get; }
        public double InvX { get; }
        public double InvY { get; }
        public double ScaleX { get; }
        public double ScaleY { get; }
        public int IScaleX { get; }
        public int IScaleY { get; }
        public bool AreaFast { get; }
        public bool Same => Sw == Dw && Sh == Dh;

        /// <summary>"True area interpolation is only implemented for scale_x >= 1 and scale_y >= 1" (hal::resize).</summary>
        public bool Shrinks => ScaleX >= 1 && ScaleY >= 1;
    }

    /// <summary>
    /// <c>cv2.resize(img, (dw, dh), interpolation=cv2.INTER_AREA)</c> of the whole uint8 image, into
    /// <paramref name="dst"/> (interleaved RGB, <c>dw * dh * 3</c> bytes). Only shrinking (or same size) is supported,
    /// the only case of MTCNN's pyramid.
    /// </summary>
    public static void AreaU8(RgbImage src, int dw, int dh, Span<byte> dst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dw, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dh, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dst.Length, checked(dw * dh * Cn), nameof(dst));
        var plan = new Plan(src.Width, src.Height, dw, dh);
        var px = src.Pixels.AsSpan();
        if (plan.Same)
        {
            px.CopyTo(dst);
            return;
        }
        if (!plan.Shrinks)
            throw new NotSupportedException($"uint8 INTER_AREA enlarging ({src.Width}x{src.Height} -> {dw}x{dh}) is not implemented");
        if (plan.AreaFast)
            AreaFastU8(px, plan, dst);
        else
            AreaU8(px, plan, dst);
    }

    /// <summary>
    /// facenet's R-Net/O-Net input: <paramref name="region"/> of <paramref name="src"/> copied into a float64 zero
    /// canvas (pixels outside the image stay 0), then <c>cv2.resize(tmp, (dw, dh), interpolation=cv2.INTER_AREA)</c>.
    /// Writes interleaved RGB doubles (<c>dw * dh * 3</c>) into <paramref name="dst"/>.
    /// </summary>
    public static void AreaF64(RgbImage src, PixelRect region, int dw, int dh, Span<double> dst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dw, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dh, 1);
        if (region.Width < 1 || region.Height < 1)
            throw new ArgumentException($"region {region} is empty", nameof(region));
        ArgumentOutOfRangeException.ThrowIfLessThan(dst.Length, checked(dw * dh * Cn), nameof(dst));
        var crop = new Crop(src, region);
        var plan = new Plan(region.Width, region.Height, dw, dh);
        if (plan.Same)
        {
            for (int y = 0; y < dh; y++)
                crop.Row(y, dst.Slice(y * dw * Cn, dw * Cn));
        }
        else if (!plan.Shrinks)
            LinearAreaModeF64(crop, plan, dst);
        else if (plan.AreaFast)
            AreaFastF64(crop, plan, dst);
        else
            AreaF64(crop, plan, dst);
    }

    /// <summary>A rectangle of a uint8 image read as float64 rows, zero outside the image (facenet's pad + tmp).</summary>
    private readonly struct Crop(RgbImage image, PixelRect region)
    {
        public int Width => region.Width;

        /// <summary>Value <paramref name="i"/> (channel units: x * 3 + c) of row <paramref name="y"/>; 0 outside the image.</summary>
        public double At(int y, int i)
        {
            int iy = region.Y + y, ix = region.X + i / Cn;
            return iy < 0 || iy >= image.Height || ix < 0 || ix >= image.Width
                ? 0.0
                : image.Pixels[(iy * image.Width + ix) * Cn + i % Cn];
        }

        /// <summary>Row <paramref name="y"/> of the crop (0-based), <c>Width * 3</c> doubles.</summary>
        public void Row(int y, Span<double> row)
        {
            row = row[..(region.Width * Cn)];
            int iy = region.Y + y;
            int x0 = Math.Max(0, region.X), x1 = Math.Min(image.Width, region.X + region.Width);
            if (iy < 0 || iy >= image.Height || x0 >= x1)
            {
                row.Clear();
                return;
            }
            int lead = (x0 - region.X) * Cn, n = (x1 - x0) * Cn;
            row[..lead].Clear();
            row[(lead + n)..].Clear();
            var s = image.Pixels.AsSpan((iy * image.Width + x0) * Cn, n);
            var d = row.Slice(lead, n);
            for (int i = 0; i < n; i++) d[i] = s[i];
        }
    }

    /// <summary>cvRound then saturate to 0..255: saturate_cast&lt;uchar&gt;(float).</summary>
    private static byte SaturateU8(float v)
    {
        float r = MathF.Round(v, MidpointRounding.ToEven);
        return r <= 0 ? (byte)0 : r >= 255 ? (byte)255 : (byte)r;
    }

    // ---- resizeAreaFast_ ----------------------------------------------------------------------------------------

    private static void AreaFastU8(ReadOnlySpan<byte> px, Plan p, Span<byte> dst)
    {
        int sx = p.IScaleX, sy = p.IScaleY, area = sx * sy, stride = p.Sw * Cn, dRow = p.Dw * Cn;
        float scale = 1f / area; // resizeAreaFast_Invoker: float scale = 1.f/(area)
        for (int dy = 0; dy < p.Dh; dy++)
        {
            var d = dst.Slice(dy * dRow, dRow);
            int sy0 = dy * sy;
            if (sx == 2 && sy == 2)
            {
                // ResizeAreaFastVec (and its SSE2/NEON twin): (S[i] + S[i+cn] + nextS[i] + nextS[i+cn] + 2) >> 2.
                var s0 = px.Slice(sy0 * stride, stride);
                var s1 = px.Slice((sy0 + 1) * stride, stride);
                for (int dx = 0; dx < dRow; dx += Cn)
                {
                    int i = dx * 2;
                    for (int c = 0; c < Cn; c++)
                        d[dx + c] = (byte)((s0[i + c] + s0[i + c + Cn] + s1[i + c] + s1[i + c + Cn] + 2) >> 2);
                }
                continue;
            }
            for (int dx = 0; dx < dRow; dx++)
            {
                int x0 = (dx / Cn) * sx * Cn + dx % Cn; // xofs
                int sum = 0;
                for (int by = 0; by < sy; by++)
                {
                    int rowStart = (sy0 + by) * stride + x0;
                    for (int bx = 0; bx < sx; bx++) sum += px[rowStart + bx * Cn];
                }
                d[dx] = SaturateU8(sum * scale);
            }
        }
    }

    private static void AreaFastF64(Crop crop, Plan p, Span<double> dst)
    {
        int sx = p.IScaleX, sy = p.IScaleY, area = sx * sy, dRow = p.Dw * Cn;
        double scale = 1f / area; // float scale = 1.f/(area), multiplied in double (WT = double)
        // ofs[k]: block offsets row by row (hal::resize: for sy, for sx: ofs[k++] = sy*srcstep + sx*cn), here as
        // (row, column-in-channel-units) pairs read straight from the image, so a large crop needs no buffer.
        Span<int> ofsY = area <= 256 ? stackalloc int[area] : new int[area];
        Span<int> ofsX = area <= 256 ? stackalloc int[area] : new int[area];
        for (int by = 0, k = 0; by < sy; by++)
            for (int bx = 0; bx < sx; bx++, k++)
                (ofsY[k], ofsX[k]) = (by, bx * Cn);
        for (int dy = 0; dy < p.Dh; dy++)
        {
            int y0 = dy * sy;
            var d = dst.Slice(dy * dRow, dRow);
            for (int dx = 0; dx < dRow; dx++)
            {
                int x0 = (dx / Cn) * sx * Cn + dx % Cn;
                double sum = 0;
                int k = 0;
                // CV_ENABLE_UNROLLED: sum += S[ofs[k]] + S[ofs[k+1]] + S[ofs[k+2]] + S[ofs[k+3]] (left to right)
                for (; k <= area - 4; k += 4)
                    sum += crop.At(y0 + ofsY[k], x0 + ofsX[k]) + crop.At(y0 + ofsY[k + 1], x0 + ofsX[k + 1])
                         + crop.At(y0 + ofsY[k + 2], x0 + ofsX[k + 2]) + crop.At(y0 + ofsY[k + 3], x0 + ofsX[k + 3]);
                for (; k < area; k++)
                    sum += crop.At(y0 + ofsY[k], x0 + ofsX[k]);
                d[dx] = sum * scale;
            }
        }
    }

    // ---- resizeArea_ (computeResizeAreaTab) ---------------------------------------------------------------------

    /// <summary>computeResizeAreaTab with cn = 1 (channels are handled by the callers). Returns the entry count.</summary>
    private static int AreaTab(int ssize, int dsize, double scale, DecimateAlpha[] tab)
    {
        int k = 0;
        for (int dx = 0; dx < dsize; dx++)
        {
            double fsx1 = dx * scale;
            double fsx2 = fsx1 + scale;
            double cellWidth = Math.Min(scale, ssize - fsx1);
            int sx1 = (int)Math.Ceiling(fsx1), sx2 = (int)Math.Floor(fsx2);
            sx2 = Math.Min(sx2, ssize - 1);
            sx1 = Math.Min(sx1, sx2);
            // 1e-3: OpenCV's threshold for a partial pixel worth a tap.
            if (sx1 - fsx1 > 1e-3)
                tab[k++] = new DecimateAlpha { Di = dx, Si = sx1 - 1, Alpha = (float)((sx1 - fsx1) / cellWidth) };
            for (int sx = sx1; sx < sx2; sx++)
                tab[k++] = new DecimateAlpha { Di = dx, Si = sx, Alpha = (float)(1.0 / cellWidth) };
            if (fsx2 - sx2 > 1e-3)
                tab[k++] = new DecimateAlpha { Di = dx, Si = sx2, Alpha = (float)(Math.Min(Math.Min(fsx2 - sx2, 1.0), cellWidth) / cellWidth) };
        }
        return k;
    }

    private static void AreaU8(ReadOnlySpan<byte> px, Plan p, Span<byte> dst)
    {
        var xtab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sw * 2);
        var ytab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sh * 2);
        int dRow = p.Dw * Cn, stride = p.Sw * Cn;
        float[] work = ArrayPool<float>.Shared.Rent(2 * dRow);
        try
        {
            int xn = AreaTab(p.Sw, p.Dw, p.ScaleX, xtab), yn = AreaTab(p.Sh, p.Dh, p.ScaleY, ytab);
            var buf = work.AsSpan(0, dRow);
            var sum = work.AsSpan(dRow, dRow);
            sum.Clear();
            int prevDy = ytab[0].Di;
            for (int j = 0; j < yn; j++)
            {
                float beta = ytab[j].Alpha;
                int dy = ytab[j].Di;
                var s = px.Slice(ytab[j].Si * stride, stride);
                buf.Clear();
                for (int k = 0; k < xn; k++)
                {
                    int sxn = xtab[k].Si * Cn, dxn = xtab[k].Di * Cn;
                    float alpha = xtab[k].Alpha;
                    float t0 = buf[dxn] + s[sxn] * alpha;
                    float t1 = buf[dxn + 1] + s[sxn + 1] * alpha;
                    float t2 = buf[dxn + 2] + s[sxn + 2] * alpha;
                    buf[dxn] = t0; buf[dxn + 1] = t1; buf[dxn + 2] = t2;
                }
                if (dy != prevDy)
                {
                    var d = dst.Slice(prevDy * dRow, dRow);
                    for (int dx = 0; dx < dRow; dx++)
                    {
                        d[dx] = SaturateU8(sum[dx]);
                        sum[dx] = beta * buf[dx];
                    }
                    prevDy = dy;
                }
                else
                {
                    for (int dx = 0; dx < dRow; dx++) sum[dx] += beta * buf[dx];
                }
            }
            var last = dst.Slice(prevDy * dRow, dRow);
            for (int dx = 0; dx < dRow; dx++) last[dx] = SaturateU8(sum[dx]);
        }
        finally
        {
            ArrayPool<DecimateAlpha>.Shared.Return(xtab);
            ArrayPool<DecimateAlpha>.Shared.Return(ytab);
            ArrayPool<float>.Shared.Return(work);
        }
    }

    private static void AreaF64(Crop crop, Plan p, Span<double> dst)
    {
        var xtab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sw * 2);
        var ytab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sh * 2);
        int dRow = p.Dw * Cn, sRow = p.Sw * Cn;
        double[] work = ArrayPool<double>.Shared.Rent(2 * dRow + sRow);
        try
        {
            int xn = AreaTab(p.Sw, p.Dw, p.ScaleX, xtab), yn = AreaTab(p.Sh, p.Dh, p.ScaleY, ytab);
            var buf = work.AsSpan(0, dRow);
            var sum = work.AsSpan(dRow, dRow);
            var s = work.AsSpan(2 * dRow, sRow);
            sum.Clear();
            int prevDy = ytab[0].Di, loadedRow = -1;
            for (int j = 0; j < yn; j++)
            {
                double beta = ytab[j].Alpha;
                int dy = ytab[j].Di;
                if (ytab[j].Si != loadedRow) crop.Row(loadedRow = ytab[j].Si, s);
                buf.Clear();
                for (int k = 0; k < xn; k++)
                {
                    int sxn = xtab[k].Si * Cn, dxn = xtab[k].Di * Cn;
                    double alpha = xtab[k].Alpha;
                    double t0 = buf[dxn] + s[sxn] * alpha;
                    double t1 = buf[dxn + 1] + s[sxn + 1] * alpha;
                    double t2 = buf[dxn + 2] + s[sxn + 2] * alpha;
                    buf[dxn] = t0; buf[dxn + 1] = t1; buf[dxn + 2] = t2;
                }
                if (dy != prevDy)
                {
                    var d = dst.Slice(prevDy * dRow, dRow);
                    for (int dx = 0; dx < dRow; dx++)
                    {
                        d[dx] = sum[dx];
                        sum[dx] = beta * buf[dx];
                    }
                    prevDy = dy;
                }
                else
                {
                    for (int dx = 0; dx < dRow; dx++) sum[dx] += beta * buf[dx];
                }
            }
            sum.CopyTo(dst.Slice(prevDy * dRow, dRow));
        }
        finally
        {
            ArrayPool<DecimateAlpha>.Shared.Return(xtab);
            ArrayPool<DecimateAlpha>.Shared.Return(ytab);
            ArrayPool<double>.Shared.Return(work);
        }
    }

    // ---- resizeGeneric_ (INTER_LINEAR machinery with INTER_AREA's coefficients) ----------------------------------

    /// <summary>hal::resize's coefficient loop in area mode, for one axis (ksize = 2, float coefficients).</summary>
    private static void LinearAreaCoefficients(int ssize, int dsize, double scale, double invScale, bool clamp,
        Span<int> ofs, Span<float> coef, out int min, out int max)
    {
        min = 0;
        max = dsize;
        for (int d = 0; d < dsize; d++)
        {
            int s = (int)Math.Floor(d * scale);
            float f = (float)((d + 1) - (s + 1) * invScale);
            f = f <= 0 ? 0f : f - MathF.Floor(f);
            if (clamp)
            {
                // ksize2 = 1: "sx < ksize2-1" and "sx + ksize2 >= src_width" (the x axis only; rows are clipped later).
                if (s < 0)
                {
                    min = d + 1;
                    f = 0; s = 0;
                }
                if (s + 1 >= ssize)
                {
                    max = Math.Min(max, d);
                    if (s >= ssize - 1) { f = 0; s = ssize - 1; }
                }
            }
            ofs[d] = s;
            coef[2 * d] = 1f - f;
            coef[2 * d + 1] = f;
        }
    }

    private static void LinearAreaModeF64(Crop crop, Plan p, Span<double> dst)
    {
        int dRow = p.Dw * Cn, sRow = p.Sw * Cn;
        int[] ints = ArrayPool<int>.Shared.Rent(p.Dw + p.Dh);
        float[] coefs = ArrayPool<float>.Shared.Rent(2 * (p.Dw + p.Dh));
        double[] work = ArrayPool<double>.Shared.Rent(sRow + 2 * dRow);
        try
        {
            var xofs = ints.AsSpan(0, p.Dw);
            var yofs = ints.AsSpan(p.Dw, p.Dh);
            var alpha = coefs.AsSpan(0, 2 * p.Dw);
            var beta = coefs.AsSpan(2 * p.Dw, 2 * p.Dh);
            LinearAreaCoefficients(p.Sw, p.Dw, p.ScaleX, p.InvX, true, xofs, alpha, out _, out int xmax);
            LinearAreaCoefficients(p.Sh, p.Dh, p.ScaleY, p.InvY, false, yofs, beta, out _, out _);
            var src = work.AsSpan(0, sRow);
            for (int dy = 0; dy < p.Dh; dy++)
            {
                for (int k = 0; k < 2; k++)
                {
                    // resizeGeneric_Invoker: sy = clip(sy0 - ksize2 + 1 + k, 0, ssize.height)
                    int sy = Math.Clamp(yofs[dy] + k, 0, p.Sh - 1);
                    crop.Row(sy, src);
                    var r = work.AsSpan(sRow + k * dRow, dRow);
                    // HResizeLinear<double, double, float>: interpolate up to xmax, copy the clamped pixel after it.
                    for (int dx = 0; dx < p.Dw; dx++)
                    {
                        int sx = xofs[dx] * Cn;
                        if (dx < xmax)
                        {
                            double a0 = alpha[2 * dx], a1 = alpha[2 * dx + 1];
                            for (int c = 0; c < Cn; c++)
                                r[dx * Cn + c] = src[sx + c] * a0 + src[sx + c + Cn] * a1;
                        }
                        else
                        {
                            for (int c = 0; c < Cn; c++)
                                r[dx * Cn + c] = src[sx + c];
                        }
                    }
                }
                // VResizeLinear<double, double, float>: S0[x]*b0 + S1[x]*b1.
                double b0 = beta[2 * dy], b1 = beta[2 * dy + 1];
                var r0 = work.AsSpan(sRow, dRow);
                var r1 = work.AsSpan(sRow + dRow, dRow);
                var d = dst.Slice(dy * dRow, dRow);
                for (int x = 0; x < dRow; x++)
                    d[x] = r0[x] * b0 + r1[x] * b1;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ints);
            ArrayPool<float>.Shared.Return(coefs);
            ArrayPool<double>.Shared.Return(work);
        }
    }
}
