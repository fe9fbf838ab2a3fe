using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests.Detection;

/// <summary>The pure steps of MTCNN against values worked out by hand from facenet's detect_face.py.</summary>
public sealed class MtcnnMathTests
{
    [Fact]
    public void PyramidScales_250x250_Minsize20()
    {
        // m = 12/20 = 0.6; minl = 250 * 0.6 = 150, then x0.709 while >= 12:
        // 150, 106.35, 75.40, 53.46, 37.90, 26.87, 19.05, 13.51, (9.58 stops) -> 8 scales 0.6 * 0.709^k, k = 0..7.
        var scales = MtcnnMath.PyramidScales(250, 250, 20, 0.709);
        Assert.Equal(8, scales.Count);
        for (int k = 0; k < 8; k++) Assert.Equal(0.6 * Math.Pow(0.709, k), scales[k], 12);
    }

    [Fact]
    public void PyramidScales_UsesShorterSide()
    {
        // min(640, 20) = 20 -> minl = 12 -> exactly one scale (12 >= 12), then 8.5 stops.
        Assert.Equal([0.6], MtcnnMath.PyramidScales(640, 20, 20, 0.709));
        Assert.Empty(MtcnnMath.PyramidScales(640, 19, 20, 0.709));
    }

    [Fact]
    public void ScaledSize_RoundsUp()
    {
        // ceil(250 * 0.6) = 150; ceil(251 * 0.425400) = ceil(106.775...) = 107.
        Assert.Equal((150, 150), MtcnnMath.ScaledSize(250, 250, 0.6));
        Assert.Equal((107, 43), MtcnnMath.ScaledSize(251, 100, 0.4254));
    }

    [Fact]
    public void GenerateBoundingBoxes_MapsCellsToImagePixels()
    {
        // 2x3 map (rows x cols). Scores: only (row 1, col 2) = 0.9 and (row 0, col 0) = 0.6 pass threshold 0.6 (>=).
        float[] prob = [0.6f, 0.1f, 0.59f, 0.2f, 0.3f, 0.9f];
        var reg = new float[4 * 6];
        for (int c = 0; c < 4; c++) reg[c * 6 + 5] = 0.1f * (c + 1); // offsets of cell (1,2)
        var boxes = MtcnnMath.GenerateBoundingBoxes(prob, reg, mapWidth: 3, mapHeight: 2, scale: 0.5, threshold: 0.6);
        Assert.Equal(2, boxes.Count);
        // cell (row 0, col 0): q1 = fix((2*0 + 1) / 0.5) = 2, q2 = fix((2*0 + 12) / 0.5) = 24.
        Assert.Equal((2.0, 2.0, 24.0, 24.0), (boxes[0].X1, boxes[0].Y1, boxes[0].X2, boxes[0].Y2));
        // cell (row 1, col 2): x1 = fix((4 + 1) / 0.5) = 10, y1 = fix((2 + 1) / 0.5) = 6, x2 = fix(16 / 0.5) = 32, y2 = fix(14 / 0.5) = 28.
        var b = boxes[1];
        Assert.Equal((10.0, 6.0, 32.0, 28.0), (b.X1, b.Y1, b.X2, b.Y2));
        Assert.Equal(0.9, b.Score, 6);
        Assert.Equal([0.1, 0.2, 0.3, 0.4], new[] { b.Dx1, b.Dy1, b.Dx2, b.Dy2 }.Select(v => Math.Round(v, 6)));
    }

    [Fact]
    public void GenerateBoundingBoxes_TruncatesTowardZero()
    {
        // scale 0.7: x1 = fix(1 / 0.7) = fix(1.428) = 1; x2 = fix(12 / 0.7) = fix(17.14) = 17.
        var boxes = MtcnnMath.GenerateBoundingBoxes([1f], new float[4], 1, 1, 0.7, 0.5);
        Assert.Equal((1.0, 1.0, 17.0, 17.0), (boxes[0].X1, boxes[0].Y1, boxes[0].X2, boxes[0].Y2));
    }

    [Fact]
    public void GenerateBoundingBoxes_ListsCellsRowByRow()
    {
        // The order the facenet golden needs (MtcnnMath remarks). 2 rows x 2 cols, all passing.
        float[] prob = [0.9f, 0.8f, 0.7f, 0.6f]; // (r0,c0) (r0,c1) (r1,c0) (r1,c1)
        var boxes = MtcnnMath.GenerateBoundingBoxes(prob, new float[16], 2, 2, 1.0, 0.5);
        Assert.Equal([0.9f, 0.8f, 0.7f, 0.6f], boxes.Select(b => (float)b.Score));
        Assert.Equal([0.0, 2.0, 0.0, 2.0], boxes.Select(b => b.X1 - 1)); // x = 2 * col, then +1
    }

    [Fact]
    public void GenerateBoundingBoxes_SingleCellReadsMirroredRegression()
    {
        // detect_face.py flips the regression maps (np.flipud of the transposed maps) when exactly one cell passes:
        // the offsets of cell (row 1, col 0) of a 2x3 map come from (row 1, col 2). With two cells passing, no flip.
        float[] prob = [0f, 0f, 0f, 0.9f, 0f, 0f];
        var reg = new float[4 * 6];
        for (int c = 0; c < 4; c++) { reg[c * 6 + 3] = 0.1f; reg[c * 6 + 5] = 0.5f; }
        var single = Assert.Single(MtcnnMath.GenerateBoundingBoxes(prob, reg, 3, 2, 1.0, 0.6));
        Assert.Equal((0.5f, 0.5f, 0.5f, 0.5f), ((float)single.Dx1, (float)single.Dy1, (float)single.Dx2, (float)single.Dy2));
        Assert.Equal((1.0, 3.0), (single.X1, single.Y1)); // the box itself is the passing cell's
        prob[0] = 0.9f;
        var two = MtcnnMath.GenerateBoundingBoxes(prob, reg, 3, 2, 1.0, 0.6);
        Assert.Equal(0.1f, (float)two.Single(b => b.Y1 == 3).Dx1);
    }

    [Fact]
    public void NumpyArgsort_OrdersTiesAsNumpy124()
    {
        // Expected: np.argsort(np.array(v)) printed by numpy 1.24.2 (ties ordered by its introsort, not stably).
        double[] v = [.. Enumerable.Range(0, 40).Select(i => (i * 7919) % 5 / 4.0)];
        int[] expected = [0, 35, 30, 5, 25, 20, 15, 10, 34, 29, 24, 14, 19, 39, 9, 4, 33, 3, 28, 23, 13, 38, 18, 8, 22, 7,
            37, 12, 27, 17, 32, 2, 21, 36, 1, 16, 31, 6, 11, 26];
        var order = new int[v.Length];
        MtcnnMath.NumpyArgsort(v, order);
        Assert.Equal(expected, order);
        double[] v2 = [.. Enumerable.Range(0, 20).Select(i => (double)(i * 31 % 3))];
        var order2 = new int[v2.Length];
        MtcnnMath.NumpyArgsort(v2, order2);
        Assert.Equal([0, 15, 12, 18, 6, 9, 3, 4, 7, 10, 13, 1, 16, 19, 8, 11, 2, 14, 17, 5], order2);
    }

    [Fact]
    public void Nms_EqualScores_LastOfNumpyOrderWins()
    {
        // Two identical boxes with equal scores: numpy's argsort of 2 elements keeps [0, 1], facenet picks I[-1] = 1.
        var boxes = new[] { Box(0, 0, 9, 9, 0.5), Box(0, 0, 9, 9, 0.5) };
        Assert.Equal([1], MtcnnMath.Nms(boxes, 0.5, NmsMode.Union));
    }

    private static Candidate Box(double x1, double y1, double x2, double y2, double s) => new(x1, y1, x2, y2, s);

    [Fact]
    public void Nms_Union_SuppressesOverlapAboveThreshold()
    {
        // A: 0..9 (area 100, +1 convention), score 0.9. B: 5..14 x 0..9, score 0.8: inter = 5*10 = 50,
        // IoU = 50 / (100 + 100 - 50) = 1/3. C: 100..109, far away, score 0.95.
        var boxes = new[] { Box(0, 0, 9, 9, 0.9), Box(5, 0, 14, 9, 0.8), Box(100, 100, 109, 109, 0.95) };
        Assert.Equal([2, 0], MtcnnMath.Nms(boxes, 0.3, NmsMode.Union));   // 1/3 > 0.3: B goes
        Assert.Equal([2, 0, 1], MtcnnMath.Nms(boxes, 0.5, NmsMode.Union)); // 1/3 <= 0.5: B stays
    }

    [Fact]
    public void Nms_Min_UsesSmallerArea()
    {
        // Big 0..19 (area 400, score 0.9) contains small 5..9 (area 25, score 0.8): IoU = 25/400 = 0.0625,
        // but inter/min = 25/25 = 1. 'Min' at 0.7 removes the small one; 'Union' at 0.7 keeps both.
        var boxes = new[] { Box(0, 0, 19, 19, 0.9), Box(5, 5, 9, 9, 0.8) };
        Assert.Equal([0], MtcnnMath.Nms(boxes, 0.7, NmsMode.Min));
        Assert.Equal([0, 1], MtcnnMath.Nms(boxes, 0.7, NmsMode.Union));
    }

    [Fact]
    public void Nms_EqualToThresholdIsKept()
    {
        // facenet keeps o <= threshold. Two 0..9 boxes side by side sharing 5 columns: IoU = 1/3 exactly.
        var boxes = new[] { Box(0, 0, 9, 9, 0.9), Box(5, 0, 14, 9, 0.8) };
        Assert.Equal([0, 1], MtcnnMath.Nms(boxes, 50.0 / 150.0, NmsMode.Union));
    }

    [Fact]
    public void Regression_PNetUsesWidthWithoutPlusOne_BbregWithPlusOne()
    {
        var c = new Candidate(10, 20, 30, 60, 0.9) { Dx1 = 0.1, Dy1 = -0.1, Dx2 = 0.2, Dy2 = 0.5 };
        // P-Net stage: w = 20, h = 40 -> (10 + 2, 20 - 4, 30 + 4, 60 + 20)
        var p = MtcnnMath.PNetRegression(c);
        Assert.Equal((12.0, 16.0, 34.0, 80.0), (p.X1, p.Y1, p.X2, p.Y2));
        // bbreg: w = 21, h = 41 -> (10 + 2.1, 20 - 4.1, 30 + 4.2, 60 + 20.5)
        var r = MtcnnMath.BoxRegression(c, 0.1, -0.1, 0.2, 0.5);
        Assert.Equal(12.1, r.X1, 9); Assert.Equal(15.9, r.Y1, 9); Assert.Equal(34.2, r.X2, 9); Assert.Equal(80.5, r.Y2, 9);
        Assert.Equal(0.9, r.Score);
    }

    [Fact]
    public void Square_CentresTheLongerSide()
    {
        // w = 20, h = 40, l = 40: x1 = 10 + 10 - 20 = 0, y1 = 20 + 20 - 20 = 20, x2 = 40, y2 = 60.
        var s = MtcnnMath.Square(Box(10, 20, 30, 60, 0.5));
        Assert.Equal((0.0, 20.0, 40.0, 60.0), (s.X1, s.Y1, s.X2, s.Y2));
        // wide box: w = 30, h = 10 -> l = 30, y1 = 5 + 5 - 15 = -5.
        var t = MtcnnMath.Square(Box(0, 5, 30, 15, 0.5));
        Assert.Equal((0.0, -5.0, 30.0, 25.0), (t.X1, t.Y1, t.X2, t.Y2));
    }

    [Fact]
    public void FixAndCrop_FollowFacenetPad()
    {
        // np.fix truncates toward zero: -3.7 -> -3, 12.9 -> 12.
        var f = MtcnnMath.Fix(Box(-3.7, 2.2, 12.9, 18.99, 1));
        Assert.Equal((-3.0, 2.0, 12.0, 18.0), (f.X1, f.Y1, f.X2, f.Y2));
        // pad(): copy img[y1-1 : y2, x1-1 : x2] into a (y2-y1+1) x (x2-x1+1) canvas -> 0-based start x1-1.
        Assert.Equal(new PixelRect(-4, 1, 16, 17), MtcnnMath.CropFor(f));
    }
}
