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
    public static List<Candidate> GenerateBoundingBoxes(
        ReadOnlySpan<float> prob, ReadOnlySpan<float> reg, int mapWidth, int mapHeight, double scale, double threshold)
    {
        var result = new List<Candidate>();
        int plane = mapWidth * mapHeight;
        for (int row = 0; row < mapHeight; row++)
        {
            for (int col = 0; col < mapWidth; col++)
            {
                int i = row * mapWidth + col;
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
                result.Add(c);
            }
        }
        return result;
    }

    /// <summary>
    /// Greedy non-maximum suppression (detect_face.py nms): take the best remaining box, drop every box whose overlap
    /// with it is above <paramref name="threshold"/>. Areas use the +1 pixel convention. Returns the kept indices,
    /// best first. Ties in score keep the earlier box first (a stable order; numpy's quicksort does not promise one).
    /// </summary>
    public static List<int> Nms(IReadOnlyList<Candidate> boxes, double threshold, NmsMode mode)
    {
        int n = boxes.Count;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        // Descending by score, stable.
        var sorted = order.OrderByDescending(i => boxes[i].Score).ToArray();
        var area = new double[n];
        for (int i = 0; i < n; i++)
            area[i] = (boxes[i].X2 - boxes[i].X1 + 1) * (boxes[i].Y2 - boxes[i].Y1 + 1);

        var suppressed = new bool[n];
        var pick = new List<int>();
        for (int a = 0; a < sorted.Length; a++)
        {
            int i = sorted[a];
            if (suppressed[i]) continue;
            pick.Add(i);
            var bi = boxes[i];
            for (int b = a + 1; b < sorted.Length; b++)
            {
                int j = sorted[b];
                if (suppressed[j]) continue;
                var bj = boxes[j];
                double w = Math.Max(0, Math.Min(bi.X2, bj.X2) - Math.Max(bi.X1, bj.X1) + 1);
                double h = Math.Max(0, Math.Min(bi.Y2, bj.Y2) - Math.Max(bi.Y1, bj.Y1) + 1);
                double inter = w * h;
                double o = mode == NmsMode.Min
                    ? inter / Math.Min(area[i], area[j])
                    : inter / (area[i] + area[j] - inter);
                if (o > threshold) suppressed[j] = true;
            }
        }
        return pick;
    }

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
