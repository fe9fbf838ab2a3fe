using FaceNetSharp.Embedding;

namespace FaceNetSharp.Recognition;

/// <summary>
/// The threshold of a 1:N identification (gallery, open-set classifier, server): an explicit one, one for a
/// per-comparison FAR, or, by default, one for a false-positive identification rate at the gallery's size, from the
/// model's measured operating points (<see cref="OperatingPointSet"/>).
/// </summary>
public static class IdentificationThreshold
{
    /// <summary>
    /// The default false-positive identification rate: 1% of strangers named as someone, the goal (FPIR at
    /// most 1% with FNIR at most 2%). The 1:1 same-person threshold (balanced accuracy) is far looser than this once
    /// a stranger is compared with many enrolled faces.
    /// </summary>
    public const double DefaultFpir = 0.01;

    /// <summary>
    /// The number of comparisons N a search of a gallery of <paramref name="enrolledPeople"/> people makes, for
    /// FAR = FPIR / N: the people, not their faces. A stranger's distances to several photos of one person are strongly
    /// correlated (the photos resemble the stranger alike), so a person with k photos adds far less than k
    /// independent chances. Measured (bench operating-points, open-set check: galleries of 2 to 20 people with 1 to 5
    /// photos each, FPIR 1% asked): with N = people the observed FPIR stayed at most 1% on ORL (0.1%; 0.8% in
    /// gallery evaluate's own draws), face-api.js, dlib's johns and deepface (0), while N = faces only missed more
    /// enrolled people (face-api.js 2 of 34 instead of 0). kz-celebs meets 1% at no useful threshold. An empty
    /// gallery counts as one.
    /// </summary>
    public static int Comparisons(int enrolledPeople) => Math.Max(1, enrolledPeople);

    /// <summary>
    /// Chooses the threshold: <paramref name="threshold"/> when given; else the operating point for
    /// <paramref name="far"/> per comparison when given; else the one for <paramref name="fpir"/> (default
    /// <see cref="DefaultFpir"/>) at <paramref name="comparisons"/> enrolled people. A model without operating points
    /// gets its same-person threshold, and the choice says so. Throws on a rate outside (0, 1) or a non-finite threshold.
    /// </summary>
    public static ThresholdChoice Choose(EmbedderInfo model, int comparisons, float? threshold = null, double? far = null, double? fpir = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (threshold is { } t)
        {
            if (!float.IsFinite(t) || t < 0) throw new ArgumentException($"--threshold must be a finite distance of at least 0; got {t}");
            return ThresholdChoice.Explicit(t);
        }
        if (far is { } f && f is not (> 0 and < 1)) throw new ArgumentException($"--far must be between 0 and 1 (exclusive); got {f}");
        if (fpir is { } p && p is not (> 0 and < 1)) throw new ArgumentException($"--fpir must be between 0 and 1 (exclusive); got {p}");
        if (far is not null && fpir is not null) throw new ArgumentException("give --far or --fpir, not both");
        double rate = fpir ?? DefaultFpir;
        if (model.OperatingPoints is not { } points) return ThresholdChoice.Uncalibrated(model.Threshold, far is null ? rate : null, comparisons);
        return far is { } perComparison ? points.ForFar(perComparison) : points.ForIdentification(rate, comparisons);
    }
}
