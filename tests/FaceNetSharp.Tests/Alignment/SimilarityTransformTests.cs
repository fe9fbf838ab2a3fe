using System.Numerics;
using FaceNetSharp.Alignment;

namespace FaceNetSharp.Tests.Alignment;

public sealed class SimilarityTransformTests
{
    private static readonly Vector2[] Source = [new(0, 0), new(4, 0), new(4, 2), new(1, 3), new(-1, 1)];

    private static double SquaredError(SimilarityTransform t, Vector2[] src, Vector2[] dst) =>
        src.Zip(dst, (s, d) => (double)Vector2.DistanceSquared(t.Apply(s), d)).Sum();

    [Fact]
    public void RecoversRotation90Scale2Shift()
    {
        // dst = 2 * R(90 deg) * src + (10, -5), R(90) (x, y) -> (-y, x): A = 0, B = 2, T = (10, -5).
        var dst = Source.Select(p => new Vector2(-2 * p.Y + 10, 2 * p.X - 5)).ToArray();
        var t = SimilarityTransform.Umeyama(Source, dst);
        Assert.Equal(0, t.A, 9);
        Assert.Equal(2, t.B, 9);
        Assert.Equal(10, t.Tx, 9);
        Assert.Equal(-5, t.Ty, 9);
        Assert.Equal(2, t.Scale, 9);
        Assert.Equal(Math.PI / 2, t.Rotation, 9);
        Assert.Equal(0, SquaredError(t, Source, dst), 9);
    }

    [Fact]
    public void MirroredPointsGetTheBestRotationNotAReflection()
    {
        // src (0,0), (2,0), (0,1) and its mirror x -> -x. By hand (centred sums): dot = -2, cross = -4/3,
        // |s|^2 = 10/3, so A = -0.6, B = -0.4; t = mean(d) - c mean(s) = (-2/3, 1/3) - c (2/3, 1/3).
        Vector2[] src = [new(0, 0), new(2, 0), new(0, 1)];
        Vector2[] dst = [new(0, 0), new(-2, 0), new(0, 1)];
        var t = SimilarityTransform.Umeyama(src, dst);
        Assert.Equal(-0.6, t.A, 6);
        Assert.Equal(-0.4, t.B, 6);
        Assert.Equal(-2.0 / 3 - (-0.6 * 2.0 / 3 - -0.4 * 1.0 / 3), t.Tx, 6);
        Assert.Equal(1.0 / 3 - (-0.4 * 2.0 / 3 + -0.6 * 1.0 / 3), t.Ty, 6);
        // A reflection would fit exactly; a similarity cannot, so some error must remain.
        Assert.True(SquaredError(t, src, dst) > 0.1);
    }

    [Fact]
    public void NoRotationDoesBetterThanTheEstimate()
    {
        var rng = new Random(7);
        var dst = Source.Select(p => new Vector2(1.3f * p.X - 0.4f * p.Y + 3 + (float)rng.NextDouble() * 0.3f,
            0.4f * p.X + 1.3f * p.Y - 2 + (float)rng.NextDouble() * 0.3f)).ToArray();
        var t = SimilarityTransform.Umeyama(Source, dst);
        double best = SquaredError(t, Source, dst);
        // Brute force over angles; for a fixed rotation the best scale and shift are found by Umeyama on the rotated source,
        // so instead scan (angle, scale) on a grid with the optimal shift (difference of means).
        var ms = Source.Aggregate(Vector2.Zero, (a, p) => a + p) / Source.Length;
        var md = dst.Aggregate(Vector2.Zero, (a, p) => a + p) / dst.Length;
        for (double ang = -Math.PI; ang < Math.PI; ang += 0.01)
            for (double s = 0.5; s < 2.5; s += 0.01)
            {
                double a = s * Math.Cos(ang), b = s * Math.Sin(ang);
                var c = new SimilarityTransform(a, b, md.X - (a * ms.X - b * ms.Y), md.Y - (b * ms.X + a * ms.Y));
                Assert.True(SquaredError(c, Source, dst) >= best - 1e-6);
            }
    }

    [Fact]
    public void InverseUndoesApply()
    {
        var t = new SimilarityTransform(0.8, -0.3, 12.5, -4);
        var p = new Vector2(7, 9);
        var back = t.Inverse().Apply(t.Apply(p));
        Assert.Equal(p.X, back.X, 4);
        Assert.Equal(p.Y, back.Y, 4);
    }

    [Fact]
    public void CoincidentPointsAreRefused()
    {
        Vector2[] same = [new(1, 1), new(1, 1), new(1, 1)];
        Assert.Throws<ArgumentException>(() => SimilarityTransform.Umeyama(same, Source[..3]));
        Assert.Throws<ArgumentException>(() => SimilarityTransform.Umeyama(Source, Source[..3]));
    }
}
