using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
            AreaF64(src, region, plan, dst);
    }

    /// <summary>A rectangle of a uint8 image read as float64 rows, zero outside the image (facenet's pad + tmp).</summary>
    private readonly struct Crop(RgbImage image, PixelRect region)
    {
        public int Width => region.Width;

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
            WidenToDouble(image.Pixels.AsSpan((iy * image.Width + x0) * Cn, n), row.Slice(lead, n));
        }
    }

    /// <summary>uint8 values to float64, 16 at a time where AVX is there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WidenToDouble(ReadOnlySpan<byte> src, Span<double> dst)
    {
        int n = src.Length, i = 0;
        fixed (byte* s = src)
        fixed (double* d = dst)
        {
            if (Avx.IsSupported)
            {
                for (; i <= n - 16; i += 16)
                {
                    var (lo, hi) = Vector128.Widen(Vector128.Load(s + i));
                    var (a, b) = Vector128.Widen(lo);
                    var (c, e) = Vector128.Widen(hi);
                    Avx.ConvertToVector256Double(a.AsInt32()).Store(d + i);
                    Avx.ConvertToVector256Double(b.AsInt32()).Store(d + i + 4);
                    Avx.ConvertToVector256Double(c.AsInt32()).Store(d + i + 8);
                    Avx.ConvertToVector256Double(e.AsInt32()).Store(d + i + 12);
                }
            }
            for (; i < n; i++) d[i] = s[i];
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

    private static unsafe void AreaFastF64(Crop crop, Plan p, Span<double> dst)
    {
        int sx = p.IScaleX, sy = p.IScaleY, area = sx * sy, dRow = p.Dw * Cn, sRow = p.Sw * Cn;
        double scale = 1f / area; // float scale = 1.f/(area), multiplied in double (WT = double)
        // ofs[k]: block offsets row by row (hal::resize: for sy, for sx: ofs[k++] = sy*srcstep + sx*cn), here into the
        // block's rows, read once per destination row into a buffer of sy source rows.
        int[] ofs = ArrayPool<int>.Shared.Rent(area);
        double[] rows = ArrayPool<double>.Shared.Rent(sy * sRow);
        try
        {
            for (int by = 0, k = 0; by < sy; by++)
                for (int bx = 0; bx < sx; bx++, k++)
                    ofs[k] = by * sRow + bx * Cn;
            fixed (double* rp = rows)
            fixed (double* dstp = dst)
            fixed (int* o = ofs)
            {
                for (int dy = 0; dy < p.Dh; dy++)
                {
                    for (int by = 0; by < sy; by++) crop.Row(dy * sy + by, new Span<double>(rp + by * sRow, sRow));
                    double* d = dstp + (long)dy * dRow;
                    for (int dx = 0; dx < dRow; dx++)
                    {
                        double* S = rp + (dx / Cn) * sx * Cn + dx % Cn;
                        double sum = 0;
                        int k = 0;
                        // CV_ENABLE_UNROLLED: sum += S[ofs[k]] + S[ofs[k+1]] + S[ofs[k+2]] + S[ofs[k+3]] (left to right)
                        for (; k <= area - 4; k += 4)
                            sum += S[o[k]] + S[o[k + 1]] + S[o[k + 2]] + S[o[k + 3]];
                        for (; k < area; k++)
                            sum += S[o[k]];
                        d[dx] = sum * scale;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ofs);
            ArrayPool<double>.Shared.Return(rows);
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

    /// <summary>
    /// Index of each destination pixel's first entry in an area table (entries of one pixel are consecutive, in
    /// destination order): pixel d's taps are <c>tab[starts[d] .. starts[d+1])</c>.
    /// </summary>
    private static void TapStarts(ReadOnlySpan<DecimateAlpha> tab, int dsize, Span<int> starts)
    {
        int k = 0;
        for (int d = 0; d < dsize; d++)
        {
            starts[d] = k;
            while (k < tab.Length && tab[k].Di == d) k++;
        }
        starts[dsize] = tab.Length;
    }

    /// <summary>
    /// Where resizeArea_ reads its source rows and puts its destination rows: the uint8 image with float arithmetic
    /// (<see cref="U8Rows"/>), or a crop of it with double arithmetic (<see cref="CropRows"/>: facenet's float64 crop).
    /// </summary>
    private unsafe interface IAreaRows<TSrc, T> where TSrc : unmanaged where T : unmanaged
    {
        /// <summary>
        /// Source row <paramref name="y"/>: source pixel x at <c>[x * 3]</c>, readable for x in
        /// [<see cref="ColumnsFrom"/>, <see cref="ColumnsTo"/>) (the pixels outside are zero); null for a row of zeros.
        /// </summary>
        TSrc* Row(int y);

        /// <summary>The first source column <see cref="Row"/> has.</summary>
        int ColumnsFrom { get; }

        /// <summary>One past the last source column <see cref="Row"/> has.</summary>
        int ColumnsTo { get; }

        /// <summary>Writes destination row <paramref name="dy"/> from the finished sums (<c>Dw * 3</c> values).</summary>
        void Store(int dy, T* sum);
    }

    /// <summary>uint8 rows read in place; a destination row is saturate_cast&lt;uchar&gt;(float) of its sums.</summary>
    private readonly unsafe struct U8Rows(byte* src, int stride, byte* dst, int dRow) : IAreaRows<byte, float>
    {
        public byte* Row(int y) => src + (long)y * stride;

        public int ColumnsFrom => 0;

        public int ColumnsTo => stride / Cn;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Store(int dy, float* sum)
        {
            byte* d = dst + (long)dy * dRow;
            int i = 0;
            if (Avx.IsSupported)
            {
                // SaturateU8, 16 at a time: round to nearest even (vroundps), clamp to 0..255, convert (exact), narrow.
                var lo = Vector256<float>.Zero;
                var hi = Vector256.Create(255f);
                for (; i <= dRow - 16; i += 16)
                {
                    var a = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Avx.RoundToNearestInteger(Vector256.Load(sum + i)), lo), hi));
                    var b = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Avx.RoundToNearestInteger(Vector256.Load(sum + i + 8)), lo), hi));
                    var w = Vector256.Narrow(a, b); // 16 shorts, in order
                    Vector128.Narrow(w.GetLower(), w.GetUpper()).AsByte().Store(d + i);
                }
            }
            for (; i < dRow; i++) d[i] = SaturateU8(sum[i]);
        }
    }

    /// <summary>
    /// The rows of a crop read in place from the uint8 image (its pixels outside the image are facenet's zero padding,
    /// which adds nothing to a sum and is skipped); a destination row is its double sums.
    /// </summary>
    private readonly unsafe struct CropRows(byte* image, int width, int height, PixelRect region, double* dst, int dRow) : IAreaRows<byte, double>
    {
        // pixel x of a crop row is image column region.X + x: the row pointer is offset by region.X pixels (it may point
        // before the image row; only columns in [ColumnsFrom, ColumnsTo) are read)
        public byte* Row(int y)
        {
            int iy = region.Y + y;
            return iy < 0 || iy >= height || ColumnsFrom >= ColumnsTo ? null : image + ((long)iy * width + region.X) * Cn;
        }

        public int ColumnsFrom => Math.Max(0, -region.X);

        public int ColumnsTo => Math.Min(region.Width, width - region.X);

        public void Store(int dy, double* sum) => new Span<double>(sum, dRow).CopyTo(new Span<double>(dst + (long)dy * dRow, dRow));
    }

    private static unsafe void AreaU8(ReadOnlySpan<byte> px, Plan p, Span<byte> dst)
    {
        fixed (byte* src = px)
        fixed (byte* d = dst)
            ResizeArea<byte, float, U8Rows>(p, new U8Rows(src, p.Sw * Cn, d, p.Dw * Cn));
    }

    private static unsafe void AreaF64(RgbImage image, PixelRect region, Plan p, Span<double> dst)
    {
        fixed (byte* src = image.Pixels)
        fixed (double* d = dst)
            ResizeArea<byte, double, CropRows>(p, new CropRows(src, image.Width, image.Height, region, d, p.Dw * Cn));
    }

    // resizeArea_ with OpenCV's arithmetic: for uint8 float weights and sums (T = float), for float64 double sums of
    // float weights (T = double); each tap added in table order to a sum that starts at 0. Two things OpenCV does not do,
    // neither of which changes a value: a source row that feeds two destination rows is summed horizontally once, not
    // twice; and each destination pixel's taps are summed in a local variable (the same additions, in the same order, as
    // OpenCV's buffer). One generic loop for both types (the JIT compiles one copy per type): measured at the speed of
    // the two loops it replaced, with identical results (a 1080p frame's first level and 200 crops to 24 and 48 px).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResizeArea<TSrc, T, TRows>(Plan p, TRows rows)
        where TSrc : unmanaged, INumberBase<TSrc>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRows : struct, IAreaRows<TSrc, T>
    {
        var xtab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sw * 2);
        var ytab = ArrayPool<DecimateAlpha>.Shared.Rent(p.Sh * 2);
        var xstart = ArrayPool<int>.Shared.Rent(p.Dw + 1);
        int dRow = p.Dw * Cn;
        T[] work = ArrayPool<T>.Shared.Rent(2 * dRow);
        int[] offsets = ArrayPool<int>.Shared.Rent(p.Sw * 2);
        T[] alphas = ArrayPool<T>.Shared.Rent(p.Sw * 2);
        try
        {
            int xn = AreaTab(p.Sw, p.Dw, p.ScaleX, xtab), yn = AreaTab(p.Sh, p.Dh, p.ScaleY, ytab);
            TapStarts(xtab.AsSpan(0, xn), p.Dw, xstart);
            for (int k = 0; k < xn; k++)
            {
                offsets[k] = xtab[k].Si * Cn;
                alphas[k] = T.CreateTruncating(xtab[k].Alpha); // float weight, exact in T
            }
            int from = rows.ColumnsFrom, to = rows.ColumnsTo;
            var (vectorFrom, vectorTo) = VectorPixels(xtab, xstart, p.Dw, from, to);
            int prevDy = ytab[0].Di, summedRow = -1;
            fixed (T* w = work)
            fixed (DecimateAlpha* xt = xtab)
            fixed (int* xs = xstart)
            fixed (int* xo = offsets)
            fixed (T* xa = alphas)
            {
                var taps = new Taps<T>(xt, xs, xo, xa, p.Dw, from, to, vectorFrom, vectorTo);
                T* buf = w, sum = w + dRow;
                new Span<T>(sum, dRow).Clear();
                for (int j = 0; j < yn; j++)
                {
                    T beta = T.CreateTruncating(ytab[j].Alpha); // float weight, exact in T
                    int dy = ytab[j].Di;
                    if (ytab[j].Si != summedRow)
                        HorizontalSums(rows.Row(summedRow = ytab[j].Si), taps, buf);
                    if (dy != prevDy)
                    {
                        rows.Store(prevDy, sum);
                        MultiplyAdd(sum, buf, beta, dRow, accumulate: false);
                        prevDy = dy;
                    }
                    else
                    {
                        MultiplyAdd(sum, buf, beta, dRow, accumulate: true);
                    }
                }
                rows.Store(prevDy, sum);
            }
        }
        finally
        {
            ArrayPool<DecimateAlpha>.Shared.Return(xtab);
            ArrayPool<DecimateAlpha>.Shared.Return(ytab);
            ArrayPool<int>.Shared.Return(xstart);
            ArrayPool<T>.Shared.Return(work);
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<T>.Shared.Return(alphas);
        }
    }

    /// <summary>
    /// The horizontal taps of a resize, for <see cref="HorizontalSums"/>: destination pixel d's taps are
    /// <c>[Starts[d], Starts[d + 1])</c>, each a source offset (<c>Si * 3</c>) and its weight in the arithmetic's type;
    /// <see cref="Table"/> keeps the source columns for the scalar loop's padding test.
    /// </summary>
    private readonly unsafe struct Taps<T>(DecimateAlpha* table, int* starts, int* offsets, T* alphas, int dw,
        int columnsFrom, int columnsTo, int vectorFrom, int vectorTo) where T : unmanaged
    {
        public readonly DecimateAlpha* Table = table;
        public readonly int* Starts = starts;
        public readonly int* Offsets = offsets;
        public readonly T* Alphas = alphas;
        public readonly int Dw = dw, ColumnsFrom = columnsFrom, ColumnsTo = columnsTo, VectorFrom = vectorFrom, VectorTo = vectorTo;
    }

    /// <summary>
    /// The destination pixels [from, to) that <see cref="HorizontalSums"/> sums with 4-lane vectors: those whose taps all
    /// read columns in [<paramref name="columnsFrom"/>, <paramref name="columnsTo"/> - 1), so that the fourth lane (the
    /// next pixel's first channel, never used) is still a readable byte, and never the last pixel (its fourth lane would
    /// be stored past the row's sums). Taps run left to right, so these pixels are contiguous: in a pyramid level all
    /// but the last one or two.
    /// </summary>
    private static (int From, int To) VectorPixels(DecimateAlpha[] xtab, int[] xstart, int dw, int columnsFrom, int columnsTo)
    {
        int from = 0;
        while (from < dw && xstart[from] < xstart[from + 1] && xtab[xstart[from]].Si < columnsFrom) from++;
        int to = from;
        while (to < dw - 1 && (xstart[to + 1] == xstart[to] || xtab[xstart[to + 1] - 1].Si <= columnsTo - 2)) to++;
        return (from, to);
    }

    /// <summary>
    /// One source row's horizontal pass: for each destination pixel, the sum of its taps (value times float weight, in
    /// table order, from 0), per channel, into <paramref name="buf"/> (<c>Dw * 3</c> values). Taps on columns outside
    /// [ColumnsFrom, ColumnsTo) read zeros (facenet's padding) and are skipped: adding a product 0 to a sum that is +0 or
    /// more leaves it as it is. A null row is a row of zeros.
    /// </summary>
    /// <remarks>
    /// Destination pixels [VectorFrom, VectorTo) (<see cref="VectorPixels"/>) run with the three channels of a pixel in
    /// one vector (lanes R, G, B and the next pixel's R, whose sum is written over by the next pixel and never read):
    /// each lane does the very multiply and add of the scalar loop, in the same order (no fused multiply-add), so every
    /// sum is the same float or double. Crops sum two pixels at a time, so that their chains of additions overlap (a crop of
    /// a few hundred pixels has 10-20 taps a pixel; a pyramid level 2-3, where pairs measured no faster). Measured on a
    /// 1080p frame against the scalar loop (minimum of 20 runs, alternating builds, 2026-11-30): its 12 pyramid levels
    /// 41-42 → 17-22 ms; its 980 R-Net crops (8 Mpx of source, 35% of it in crops of 400 pixels or more), read from the
    /// uint8 image, 25.6-26.2 → 8.3-8.6 ms.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HorizontalSums<TSrc, T>(TSrc* s, in Taps<T> taps, T* buf)
        where TSrc : unmanaged, INumberBase<TSrc>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s is null)
        {
            new Span<T>(buf, taps.Dw * Cn).Clear();
            return;
        }
        ScalarSums(s, taps, 0, taps.VectorFrom, buf);
        int dx = taps.VectorFrom, end = taps.VectorTo;
        int* xs = taps.Starts;
        int* xo = taps.Offsets;
        if (typeof(TSrc) == typeof(byte) && typeof(T) == typeof(float) && Sse41.IsSupported)
        {
            byte* sb = (byte*)s;
            float* fb = (float*)buf, xa = (float*)taps.Alphas;
            for (; dx < end; dx++)
            {
                var t = Vector128<float>.Zero;
                for (int k = xs[dx], e = xs[dx + 1]; k < e; k++)
                    t += Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(sb + xo[k])) * Vector128.Create(xa[k]);
                t.Store(fb + dx * Cn);
            }
        }
        else if (typeof(TSrc) == typeof(byte) && typeof(T) == typeof(double) && Avx.IsSupported)
        {
            byte* sb = (byte*)s;
            double* db = (double*)buf, xa = (double*)taps.Alphas;
            for (; dx + 1 < end; dx += 2)
            {
                int k0 = xs[dx], e0 = xs[dx + 1], k1 = e0, e1 = xs[dx + 2];
                var t0 = Vector256<double>.Zero;
                var t1 = Vector256<double>.Zero;
                for (; k0 < e0 && k1 < e1; k0++, k1++)
                {
                    t0 += Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(sb + xo[k0])) * Vector256.Create(xa[k0]);
                    t1 += Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(sb + xo[k1])) * Vector256.Create(xa[k1]);
                }
                for (; k0 < e0; k0++)
                    t0 += Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(sb + xo[k0])) * Vector256.Create(xa[k0]);
                for (; k1 < e1; k1++)
                    t1 += Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(sb + xo[k1])) * Vector256.Create(xa[k1]);
                t0.Store(db + dx * Cn);
                t1.Store(db + (dx + 1) * Cn);
            }
            for (; dx < end; dx++)
            {
                var t = Vector256<double>.Zero;
                for (int k = xs[dx], e = xs[dx + 1]; k < e; k++)
                    t += Avx.ConvertToVector256Double(Sse41.ConvertToVector128Int32(sb + xo[k])) * Vector256.Create(xa[k]);
                t.Store(db + dx * Cn);
            }
        }
        ScalarSums(s, taps, dx, taps.Dw, buf);
    }

    /// <summary><see cref="HorizontalSums"/> of destination pixels [from, to), one channel at a time.</summary>
    private static unsafe void ScalarSums<TSrc, T>(TSrc* s, in Taps<T> taps, int from, int to, T* buf)
        where TSrc : unmanaged, INumberBase<TSrc>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int dx = from; dx < to; dx++)
        {
            T t0 = T.Zero, t1 = T.Zero, t2 = T.Zero;
            for (int k = taps.Starts[dx], end = taps.Starts[dx + 1]; k < end; k++)
            {
                int si = taps.Table[k].Si;
                if (si < taps.ColumnsFrom || si >= taps.ColumnsTo) continue;
                TSrc* q = s + taps.Offsets[k];
                T alpha = taps.Alphas[k];
                t0 = t0 + Widen<TSrc, T>(q[0]) * alpha;
                t1 = t1 + Widen<TSrc, T>(q[1]) * alpha;
                t2 = t2 + Widen<TSrc, T>(q[2]) * alpha;
            }
            buf[dx * Cn] = t0; buf[dx * Cn + 1] = t1; buf[dx * Cn + 2] = t2;
        }
    }

    /// <summary>
    /// A source value in the arithmetic's type, exactly (uint8 to float, float64 as it is). Spelled out for the two
    /// pairs used: T.CreateTruncating made the uint8 loop 5-10% slower (measured on a 1080p frame's first level).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Widen<TSrc, T>(TSrc v) where TSrc : unmanaged, INumberBase<TSrc> where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(TSrc) == typeof(byte) && typeof(T) == typeof(float))
        {
            float f = Unsafe.As<TSrc, byte>(ref v);
            return Unsafe.As<float, T>(ref f);
        }
        if (typeof(TSrc) == typeof(byte) && typeof(T) == typeof(double))
        {
            double d = Unsafe.As<TSrc, byte>(ref v);
            return Unsafe.As<double, T>(ref d);
        }
        if (typeof(TSrc) == typeof(T)) return Unsafe.As<TSrc, T>(ref v);
        return T.CreateTruncating(v);
    }

    /// <summary><c>sum[i] = (accumulate ? sum[i] : 0) + beta * buf[i]</c>, a multiply then an add (never fused), as OpenCV's loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyAdd<T>(T* sum, T* buf, T beta, int n, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var b = Vector256.Create(beta);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var prod = Vector256.Load(buf + i) * b;
                (accumulate ? Vector256.Load(sum + i) + prod : prod).Store(sum + i);
            }
        }
        for (; i < n; i++) sum[i] = accumulate ? sum[i] + beta * buf[i] : beta * buf[i];
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

    // resizeGeneric_ with OpenCV's arithmetic; a source row's horizontal pass is kept for the next destination row
    // (OpenCV keeps it too, in its row ring), so each source row is converted and interpolated once.
    private static unsafe void LinearAreaModeF64(Crop crop, Plan p, Span<double> dst)
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
            Span<int> slotRow = [-1, -1]; // the source row each of the two horizontal buffers holds
            fixed (double* w = work)
            fixed (double* dstp = dst)
            fixed (float* al = alpha)
            fixed (int* xo = xofs)
            {
                double* src = w;
                Span<int> use = stackalloc int[2];
                for (int dy = 0; dy < p.Dh; dy++)
                {
                    // resizeGeneric_Invoker: sy = clip(sy0 - ksize2 + 1 + k, 0, ssize.height)
                    int row0 = Math.Clamp(yofs[dy], 0, p.Sh - 1), row1 = Math.Clamp(yofs[dy] + 1, 0, p.Sh - 1);
                    for (int k = 0; k < 2; k++)
                    {
                        int sy = k == 0 ? row0 : row1;
                        int slot = slotRow[0] == sy ? 0 : slotRow[1] == sy ? 1 : -1;
                        if (slot < 0)
                        {
                            // a free buffer: not the one holding the other row this destination row needs
                            slot = k == 0 ? (slotRow[0] == row1 ? 1 : 0) : 1 - use[0];
                            slotRow[slot] = sy;
                            crop.Row(sy, new Span<double>(src, sRow));
                            double* r = w + sRow + slot * dRow;
                            // HResizeLinear<double, double, float>: interpolate up to xmax, copy the clamped pixel after it.
                            for (int dx = 0; dx < p.Dw; dx++)
                            {
                                double* q = src + xo[dx] * Cn;
                                double* o = r + dx * Cn;
                                if (dx < xmax)
                                {
                                    double a0 = al[2 * dx], a1 = al[2 * dx + 1];
                                    o[0] = q[0] * a0 + q[Cn] * a1;
                                    o[1] = q[1] * a0 + q[1 + Cn] * a1;
                                    o[2] = q[2] * a0 + q[2 + Cn] * a1;
                                }
                                else
                                {
                                    o[0] = q[0]; o[1] = q[1]; o[2] = q[2];
                                }
                            }
                        }
                        use[k] = slot;
                    }
                    // VResizeLinear<double, double, float>: S0[x]*b0 + S1[x]*b1.
                    double b0 = beta[2 * dy], b1 = beta[2 * dy + 1];
                    double* r0 = w + sRow + use[0] * dRow, r1 = w + sRow + use[1] * dRow;
                    double* d = dstp + (long)dy * dRow;
                    for (int x = 0; x < dRow; x++)
                        d[x] = r0[x] * b0 + r1[x] * b1;
                }
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
