namespace FaceNetSharp.Tests.Recognition;

/// <summary>Seeded synthetic embeddings: random unit directions and noisy samples around them.</summary>
internal static class SyntheticVectors
{
    /// <summary>A random unit vector (isotropic: normal components, normalised).</summary>
    public static float[] UnitVector(Random random, int dims)
    {
        var v = new float[dims];
        double sumSq;
        do
        {
            sumSq = 0;
            for (int i = 0; i < dims; i++)
            {
                v[i] = (float)Normal(random);
                sumSq += v[i] * v[i];
            }
        } while (sumSq == 0);
        float scale = (float)(1 / Math.Sqrt(sumSq));
        for (int i = 0; i < dims; i++) v[i] *= scale;
        return v;
    }

    /// <summary>
    /// <paramref name="centre"/> plus isotropic noise whose expected norm is about <paramref name="noise"/>,
    /// normalised: for a unit centre the sample lies about <paramref name="noise"/> (euclidean) from it.
    /// </summary>
    public static float[] Around(Random random, float[] centre, double noise)
    {
        var v = new float[centre.Length];
        double perDim = noise / Math.Sqrt(centre.Length);
        double sumSq = 0;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(centre[i] + perDim * Normal(random));
            sumSq += v[i] * v[i];
        }
        float scale = (float)(1 / Math.Sqrt(sumSq));
        for (int i = 0; i < v.Length; i++) v[i] *= scale;
        return v;
    }

    /// <summary>A standard normal deviate (Box-Muller).</summary>
    public static double Normal(Random random)
    {
        double u1 = 1.0 - random.NextDouble(); // (0, 1], so the log is finite
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A unit vector in the plane of the first two axes at <paramref name="degrees"/> from the first.</summary>
    public static float[] Angle(double degrees, int dims = 2)
    {
        var v = new float[dims];
        v[0] = (float)Math.Cos(degrees * Math.PI / 180);
        v[1] = (float)Math.Sin(degrees * Math.PI / 180);
        return v;
    }
}
