using System.Numerics;

namespace FaceNetSharp.Alignment;

/// <summary>
/// A 2-D similarity transform (uniform scale, rotation, translation; never a reflection):
/// <c>x' = A*x - B*y + Tx</c>, <c>y' = B*x + A*y + Ty</c>. In complex numbers <c>z' = (A + iB) z + (Tx + iTy)</c>,
/// so <c>Scale = |A + iB|</c> and <c>Rotation = arg(A + iB)</c> (radians, counter-clockwise in x-right/y-up axes,
/// clockwise as seen in an image whose y axis points down). Units are those of the points (image pixels here).
/// </summary>
public readonly record struct SimilarityTransform(double A, double B, double Tx, double Ty)
{
    /// <summary>The identity.</summary>
    public static SimilarityTransform Identity => new(1, 0, 0, 0);

    /// <summary>Uniform scale factor, always &gt;= 0.</summary>
    public double Scale => Math.Sqrt(A * A + B * B);

    /// <summary>Rotation angle in radians, in (-pi, pi].</summary>
    public double Rotation => Math.Atan2(B, A);

    /// <summary>Maps <paramref name="p"/>.</summary>
    public Vector2 Apply(Vector2 p) => new((float)(A * p.X - B * p.Y + Tx), (float)(B * p.X + A * p.Y + Ty));

    /// <summary>The transform that undoes this one.</summary>
    /// <exception cref="InvalidOperationException">The scale is 0 (the transform collapses everything to a point).</exception>
    public SimilarityTransform Inverse()
    {
        // z = (z' - t) / c = conj(c)/|c|^2 z' - conj(c) t / |c|^2.
        double s2 = A * A + B * B;
        if (s2 == 0) throw new InvalidOperationException("a similarity transform with scale 0 has no inverse");
        return new SimilarityTransform(A / s2, -B / s2, -(A * Tx + B * Ty) / s2, -(A * Ty - B * Tx) / s2);
    }

    /// <summary>
    /// The least-squares similarity mapping <paramref name="source"/> onto <paramref name="destination"/>
    /// (minimises the sum of squared distances), as Umeyama (1991, "Least-squares estimation of transformation
    /// parameters between two point patterns", with the determinant correction that forbids reflections) gives it.
    /// </summary>
    /// <remarks>
    /// In 2-D Umeyama's SVD solution equals a closed form: with both point sets centred on their means and written as
    /// complex numbers s and d, the optimal <c>A + iB = sum(conj(s) d) / sum(|s|^2)</c> and
    /// <c>t = mean(d) - (A + iB) mean(s)</c>. This is the same result skimage's <c>SimilarityTransform.estimate</c>
    /// and insightface's <c>norm_crop</c> get, without an SVD. A mirrored point set is fitted by the best proper
    /// rotation, never by a reflection.
    /// </remarks>
    /// <exception cref="ArgumentException">The spans differ in length, have fewer than 2 points, or all source
    /// points coincide.</exception>
    public static SimilarityTransform Umeyama(ReadOnlySpan<Vector2> source, ReadOnlySpan<Vector2> destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException($"{source.Length} source points but {destination.Length} destination points");
        if (source.Length < 2)
            throw new ArgumentException("a similarity needs at least 2 point pairs", nameof(source));

        int n = source.Length;
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (int i = 0; i < n; i++)
        {
            msx += source[i].X; msy += source[i].Y;
            mdx += destination[i].X; mdy += destination[i].Y;
        }
        msx /= n; msy /= n; mdx /= n; mdy /= n;

        double dot = 0, cross = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            double sx = source[i].X - msx, sy = source[i].Y - msy;
            double dx = destination[i].X - mdx, dy = destination[i].Y - mdy;
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            norm += sx * sx + sy * sy;
        }
        if (norm == 0)
            throw new ArgumentException("all source points coincide: no similarity is defined", nameof(source));

        double a = dot / norm, b = cross / norm;
        return new SimilarityTransform(a, b, mdx - (a * msx - b * msy), mdy - (b * msx + a * msy));
    }
}
