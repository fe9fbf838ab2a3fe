namespace FaceNetSharp.Cluster.Tests;

/// <summary>Deterministic synthetic 192-d faces: each person a random direction, each face that direction plus noise.</summary>
internal static class Synthetic
{
    public const string Model = "synthetic-192";
    public const int Dimensions = 192;

    public static float[] Direction(Random random)
    {
        var v = new float[Dimensions];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>A face of a person: their direction plus uniform noise of <paramref name="noise"/> per element.</summary>
    public static float[] Face(float[] direction, Random random, float noise = 0.25f)
    {
        var v = new float[Dimensions];
        for (int i = 0; i < v.Length; i++) v[i] = direction[i] + noise * (float)(random.NextDouble() * 2 - 1);
        return v;
    }
}
