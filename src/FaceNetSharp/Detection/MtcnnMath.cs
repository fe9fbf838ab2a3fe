using System.Buffers;
using System.Runtime.CompilerServices;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Detection;

/// <summary>A candidate box during MTCNN's cascade: corners, score and the regression offsets of the last net.</summary>
internal struct Candidate
{
    public double X1, Y1, X2, Y2, Score;
    public double Dx1, Dy1, Dx2, Dy2;

    public Candidate(double x1, double y1, double x2, double y2, double score)
    {
        X1 = x1; Y1 = y1; X2 = x2; Y2 = y2; Score = score;
    }
}

/// <summary>The regression offsets at the mirrored column of a level's first passing P-Net cell.</summary>
internal readonly record struct MirroredRegression(bool Seen, double Dx1, double Dy1, double Dx2, double Dy2);

/// <summary>Which overlap NMS uses: intersection over union, or over the smaller box (facenet's 'Min').</summary>
internal enum NmsMode { Union, Min }

/// <summary>
/// The pure functions of MTCNN detection, each a transcription of the function of the same name in facenet's
/// <c>src/align/detect_face.py</c> (davidsandberg/facenet), which keeps MATLAB's 1-based pixel conventions:
/// box widths are <c>x2 - x1 + 1</c>, and crops start at pixel <c>x1 - 1</c>.
/// </summary>
internal static class MtcnnMath
{
    /// <summary>P-Net's stride and receptive field in pixels (detect_face.py generateBoundingBox: stride=2, cellsize=12).</summary>
    public const int PNetStride = 2;
    public const int PNetCellSize = 12;

    /// <summary>
    /// The pyramid's scales (detect_face.py): start at 12/minsize so the smallest face of interest becomes 12 px,
    /// shrink by <paramref name="factor"/> while the shorter side stays at least 12 px.
    /// </summary>
    public static List<double> PyramidScales(int width, int height, double minSize, double factor)
    {
        var scales = new List<double>();
        double m = PNetCellSize / minSize;
        double minl = Math.Min(width, height) * m;
        int count = 0;
        while (minl >= PNetCellSize)
        {
            scales.Add(m * Math.Pow(factor, count));
            minl *= factor;
            count++;
        }
        return scales;
    }

    /// <summary>The size of the image resized for one pyramid level (detect_face.py: int(np.ceil(h * scale))).</summary>
    public static (int Width, int Height) ScaledSize(int width, int height, double scale) =>
        ((int)Math.Ceiling(width * scale), (int)Math.Ceiling(height * scale));

    /// <summary>
    /// Turns P-Net's face-probability map into boxes in original image pixels (detect_face.py generateBoundingBox).
    /// <paramref name="prob"/> is the face channel, row-major <c>[mapHeight, mapWidth]</c>; <paramref name="reg"/> is
    /// <c>[4, mapHeight, mapWidth]</c> (dx1, dy1, dx2, dy2). Keeps cells with probability &gt;= threshold.
    /// </summary>
    /// <remarks>
    /// <para>Cells are listed row by row (y outer, x inner); their order decides NMS between equal scores. Measured against
    /// ../shared/data/golden/mtcnn_facenet_opencv.json (facenet's pipeline with numpy nets and OpenCV 4.6): this order
    /// reproduces all 267 photos, while column by column (which a literal reading of detect_face.py's transposed map and
    /// <c>np.where</c> suggests) leaves 3 with another O-Net winner (2.7 to 10 px).</para>
    /// <para>When exactly one cell passes, detect_face.py flips the regression maps (<c>np.flipud</c> of its transposed
    /// maps), so that cell's offsets are read from the mirrored column <c>mapWidth - 1 - col</c> of its row. Kept as the
    /// code says; the golden photos do not tell this apart from no flip (a lone cell never decided a face there).</para>
    /// </remarks>
    public static List<Candidate> GenerateBoundingBoxes(
        ReadOnlySpan<float> prob, ReadOnlySpan<float> reg, int mapWidth, int mapHeight, double scale, double threshold)
    {
        var result = new List<Candidate>();
        GenerateBoundingBoxes(prob, reg, mapWidth, mapHeight, scale, threshold, result);
        return result;
    }

    /// <summary>As <see cref="GenerateBoundingBoxes(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, double, double)"/>,
    /// appending to <paramref name="result"/>.</summary>
    public static void GenerateBoundingBoxes(
        ReadOnlySpan<float> prob, ReadOnlySpan<float> reg, int mapWidth, int mapHeight, double scale, double threshold,
        List<Candidate> result)
    {
        int first = result.Count;
        var lone = default(MirroredRegression);
        ScanBand(prob, reg, mapWidth, mapHeight, 0, scale, threshold, result, ref lone);
        FinishLevel(result, first, lone);
    }

    /// <summary>
    /// One horizontal band of a level's P-Net maps (<paramref name="bandRows"/> full rows starting at map row
    /// <paramref name="rowOffset"/>): appends its passing cells, row by row, so bands scanned top to bottom list a level
    /// exactly as one scan of the whole map. <paramref name="lone"/> remembers the mirrored regression of the level's
    /// first passing cell, for <see cref="FinishLevel"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScanBand(
        ReadOnlySpan<float> prob, ReadOnlySpan<float> reg, int mapWidth, int bandRows, int rowOffset, double scale,
        double threshold, List<Candidate> result, ref MirroredRegression lone)
    {
        int plane = mapWidth * bandRows;
        for (int r = 0; r < bandRows; r++)
        {
            int row = rowOffset + r;
            for (int col = 0; col < mapWidth; col++)
            {
                int i = r * mapWidth + col;
                float score = prob[i];
                if (score < threshold) continue;
                // q1 = fix((stride * bb + 1) / scale), q2 = fix((stride * bb + cellsize - 1 + 1) / scale)
                var c = new Candidate(
                    Math.Truncate((PNetStride * col + 1) / scale),
                    Math.Truncate((PNetStride * row + 1) / scale),
                    Math.Truncate((PNetStride * col + PNetCellSize) / scale),
                    Math.Truncate((PNetStride * row + PNetCellSize) / scale),
                    score)
                {
                    Dx1 = reg[i], Dy1 = reg[plane + i], Dx2 = reg[2 * plane + i], Dy2 = reg[3 * plane + i],
                };
                if (!lone.Seen)
                {
                    int m = r * mapWidth + (mapWidth - 1 - col);
                    lone = new MirroredRegression(true, reg[m], reg[plane + m], reg[2 * plane + m], reg[3 * plane + m]);
                }
                result.Add(c);
            }
        }
    }

    /// <summary>
    /// Ends a level whose cells start at <paramref name="levelStart"/> in <paramref name="result"/>: when exactly one cell
    /// passed, detect_face.py's <c>np.flipud</c> of its transposed maps (<c>if y.shape[0]==1</c>) gives that cell the
    /// offsets of the mirrored column of its row.
    /// </summary>
    public static void FinishLevel(List<Candidate> result, int levelStart, in MirroredRegression lone)
    {
        if (result.Count - levelStart != 1) return;
        var c = result[levelStart];
        (c.Dx1, c.Dy1, c.Dx2, c.Dy2) = (lone.Dx1, lone.Dy1, lone.Dx2, lone.Dy2);
        result[levelStart] = c;
    }

    /// <summary>
    /// Greedy non-maximum suppression, as detect_face.py's nms: <c>I = np.argsort(s)</c>, then repeatedly pick the last
    /// of <c>I</c> and keep in <c>I</c> (in order) the boxes whose overlap with it is <c>&lt;= threshold</c>. Areas use
    /// the +1 pixel convention. Returns the kept indices, best first.
    /// </summary>
    /// <remarks>
    /// Bit for bit with facenet under numpy 1.24: the order comes from <see cref="NumpyArgsort"/> (numpy's introsort,
    /// which decides between equal scores), and picks pass through facenet's <c>np.int16</c> pick array, so index
    /// 32768 and beyond wrap (to a negative index, which numpy counts from the end).
    /// </remarks>
    public static List<int> Nms(IReadOnlyList<Candidate> boxes, double threshold, NmsMode mode)
    {
        var pick = new List<int>();
        Nms(boxes, threshold, mode, pick);
        return pick;
    }

    /// <summary>As <see cref="Nms(IReadOnlyList{Candidate}, double, NmsMode)"/>, appending to <paramref name="pick"/>.</summary>
    /// <remarks>The corners are copied into arrays first: the loop over the remaining boxes reads four doubles a box
    /// instead of a whole <see cref="Candidate"/> through the list (the same arithmetic).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Nms(IReadOnlyList<Candidate> boxes, double threshold, NmsMode mode, List<int> pick)
    {
        int n = boxes.Count;
        if (n == 0) return;
        double[] scores = ArrayPool<double>.Shared.Rent(n);
        double[] area = ArrayPool<double>.Shared.Rent(n);
        double[] x1 = ArrayPool<double>.Shared.Rent(n), y1 = ArrayPool<double>.Shared.Rent(n);
        double[] x2 = ArrayPool<double>.Shared.Rent(n), y2 = ArrayPool<double>.Shared.Rent(n);
        int[] order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                var b = boxes[i];
                scores[i] = b.Score;
                area[i] = (b.X2 - b.X1 + 1) * (b.Y2 - b.Y1 + 1);
                x1[i] = b.X1; y1[i] = b.Y1; x2[i] = b.X2; y2[i] = b.Y2;
            }
            NumpyArgsort(scores.AsSpan(0, n), order.AsSpan(0, n));
            bool min = mode == NmsMode.Min;
            int len = n;
            while (len > 0)
            {
                int i = order[len - 1];
                short wrapped = unchecked((short)i); // pick = np.zeros_like(s, dtype=np.int16)
                pick.Add(wrapped < 0 ? n + wrapped : wrapped);
                double ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iArea = area[i];
                int kept = 0;
                for (int k = 0; k < len - 1; k++)
                {
                    int j = order[k];
                    double w = Math.Max(0.0, Math.Min(ix2, x2[j]) - Math.Max(ix1, x1[j]) + 1);
                    double h = Math.Max(0.0, Math.Min(iy2, y2[j]) - Math.Max(iy1, y1[j]) + 1);
                    double inter = w * h;
                    double o = min
                        ? inter / Math.Min(iArea, area[j])
                        : inter / (iArea + area[j] - inter);
                    if (o <= threshold) order[kept++] = j; // I = I[np.where(o <= threshold)]
                }
                len = kept;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scores);
            ArrayPool<double>.Shared.Return(area);
            ArrayPool<double>.Shared.Return(x1);
            ArrayPool<double>.Shared.Return(y1);
            ArrayPool<double>.Shared.Return(x2);
            ArrayPool<double>.Shared.Return(y2);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>
    /// <c>np.argsort(v)</c> (kind 'quicksort') of numpy 1.24: <c>aquicksort_</c> in numpy/core/src/npysort/quicksort.cpp,
    /// an introsort (median of three, insertion sort for 16 elements or fewer, heapsort when the depth budget
    /// <c>2 * floor(log2 n)</c> runs out). Not stable: which of equal values comes last is what this order says, and
    /// facenet's NMS takes the last. Checked against numpy 1.24.2 on arrays full of ties.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void NumpyArgsort(ReadOnlySpan<double> v, Span<int> t)
    {
        const int SmallQuicksort = 15; // npysort_common.h SMALL_QUICKSORT
        int num = v.Length;
        for (int i = 0; i < num; i++) t[i] = i;
        if (num < 2) return;
        Span<int> stack = stackalloc int[2 * 128]; // PYA_QS_STACK = NPY_BITSOF_INTP * 2
        Span<int> depth = stackalloc int[128];
        int sp = 0, dp = 0;
        int pl = 0, pr = num - 1;
        int cdepth = 2 * (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)num)); // npy_get_msb(num) * 2
        while (true)
        {
            if (cdepth < 0)
            {
                NumpyArgHeapsort(v, t.Slice(pl, pr - pl + 1));
            }
            else
            {
                while (pr - pl > SmallQuicksort)
                {
                    int pm = pl + ((pr - pl) >> 1);
                    if (Less(v[t[pm]], v[t[pl]])) (t[pm], t[pl]) = (t[pl], t[pm]);
                    if (Less(v[t[pr]], v[t[pm]])) (t[pr], t[pm]) = (t[pm], t[pr]);
                    if (Less(v[t[pm]], v[t[pl]])) (t[pm], t[pl]) = (t[pl], t[pm]);
                    double vp = v[t[pm]];
                    int pi = pl, pj = pr - 1;
                    (t[pm], t[pj]) = (t[pj], t[pm]);
                    while (true)
                    {
                        do { ++pi; } while (Less(v[t[pi]], vp));
                        do { --pj; } while (Less(vp, v[t[pj]]));
                        if (pi >= pj) break;
                        (t[pi], t[pj]) = (t[pj], t[pi]);
                    }
                    int pk = pr - 1;
                    (t[pi], t[pk]) = (t[pk], t[pi]);
                    // push the larger partition on the stack
                    if (pi - pl < pr - pi)
                    {
                        stack[sp++] = pi + 1; stack[sp++] = pr;
                        pr = pi - 1;
                    }
                    else
                    {
                        stack[sp++] = pl; stack[sp++] = pi - 1;
                        pl = pi + 1;
                    }
                    depth[dp++] = --cdepth;
                }
                for (int pi = pl + 1; pi <= pr; ++pi)
                {
                    int vi = t[pi];
                    double vv = v[vi];
                    int pj = pi, pk = pi - 1;
                    while (pj > pl && Less(vv, v[t[pk]])) t[pj--] = t[pk--];
                    t[pj] = vi;
                }
            }
            if (sp == 0) break;
            pr = stack[--sp];
            pl = stack[--sp];
            cdepth = depth[--dp];
        }
    }

    /// <summary>numpy's <c>aheapsort_</c> (a 1-based heap: a[k] is <paramref name="a0"/>[k - 1]).</summary>
    private static void NumpyArgHeapsort(ReadOnlySpan<double> v, Span<int> a0)
    {
        int n = a0.Length;
        for (int l = n >> 1; l > 0; --l)
        {
            int tmp = a0[l - 1], i = l, j = l << 1;
            while (j <= n)
            {
                if (j < n && Less(v[a0[j - 1]], v[a0[j]])) j += 1;
                if (Less(v[tmp], v[a0[j - 1]])) { a0[i - 1] = a0[j - 1]; i = j; j += j; }
                else break;
            }
            a0[i - 1] = tmp;
        }
        while (n > 1)
        {
            int tmp = a0[n - 1];
            a0[n - 1] = a0[0];
            n -= 1;
            int i = 1, j = 2;
            while (j <= n)
            {
                if (j < n && Less(v[a0[j - 1]], v[a0[j]])) j++;
                if (Less(v[tmp], v[a0[j - 1]])) { a0[i - 1] = a0[j - 1]; i = j; j += j; }
                else break;
            }
            a0[i - 1] = tmp;
        }
    }

    /// <summary>numpy's <c>Tag::less</c> for doubles: NaN sorts last.</summary>
    private static bool Less(double a, double b) => a < b || (double.IsNaN(b) && !double.IsNaN(a));

    /// <summary>
    /// Box regression after P-Net (detect_face.py, first stage): offsets are scaled by <c>x2 - x1</c>
    /// (no +1, unlike <see cref="BoxRegression"/>), and the score is kept.
    /// </summary>
    public static Candidate PNetRegression(Candidate c)
    {
        double w = c.X2 - c.X1, h = c.Y2 - c.Y1;
        return new Candidate(c.X1 + c.Dx1 * w, c.Y1 + c.Dy1 * h, c.X2 + c.Dx2 * w, c.Y2 + c.Dy2 * h, c.Score);
    }

    /// <summary>Box regression after R-Net and O-Net (detect_face.py bbreg): offsets scaled by <c>x2 - x1 + 1</c>.</summary>
    public static Candidate BoxRegression(Candidate c, double dx1, double dy1, double dx2, double dy2)
    {
        double w = c.X2 - c.X1 + 1, h = c.Y2 - c.Y1 + 1;
        return new Candidate(c.X1 + dx1 * w, c.Y1 + dy1 * h, c.X2 + dx2 * w, c.Y2 + dy2 * h, c.Score);
    }

    /// <summary>Makes a box square around its centre with side max(w, h) (detect_face.py rerec; w = x2 - x1).</summary>
    public static Candidate Square(Candidate c)
    {
        double w = c.X2 - c.X1, h = c.Y2 - c.Y1;
        double l = Math.Max(w, h);
        double x1 = c.X1 + w * 0.5 - l * 0.5;
        double y1 = c.Y1 + h * 0.5 - l * 0.5;
        return new Candidate(x1, y1, x1 + l, y1 + l, c.Score) { Dx1 = c.Dx1, Dy1 = c.Dy1, Dx2 = c.Dx2, Dy2 = c.Dy2 };
    }

    /// <summary>Truncates the corners toward zero (np.fix) before cropping, as detect_face.py does.</summary>
    public static Candidate Fix(Candidate c) =>
        new(Math.Truncate(c.X1), Math.Truncate(c.Y1), Math.Truncate(c.X2), Math.Truncate(c.Y2), c.Score)
        { Dx1 = c.Dx1, Dy1 = c.Dy1, Dx2 = c.Dx2, Dy2 = c.Dy2 };

    /// <summary>
    /// The pixels to crop for a (fixed, integer) box (detect_face.py pad): facenet copies
    /// <c>img[y1-1 : y2, x1-1 : x2]</c> into a <c>(y2-y1+1) x (x2-x1+1)</c> zero canvas, i.e. 0-based columns
    /// <c>x1-1 .. x2-1</c>; the part outside the image stays zero.
    /// </summary>
    public static PixelRect CropFor(Candidate fixedBox) =>
        new((int)fixedBox.X1 - 1, (int)fixedBox.Y1 - 1,
            (int)(fixedBox.X2 - fixedBox.X1 + 1), (int)(fixedBox.Y2 - fixedBox.Y1 + 1));
}
