using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceNetSharp.Recognition;

/// <summary>
/// One measured operating point of an embedder: the threshold at which at most <see cref="TargetFar"/> of the
/// different-person pairs of the calibration data were accepted (distance below the threshold).
/// </summary>
/// <param name="TargetFar">The false-accept rate asked for.</param>
/// <param name="Threshold">The largest threshold whose measured FAR is at most <paramref name="TargetFar"/>, in the model's metric.</param>
/// <param name="MeasuredFar">The share of the different-person pairs below the threshold, each pair counted with its weight (<see cref="OperatingPointSet.Weighting"/>).</param>
/// <param name="ImpostorPairs">How many different-person pairs were measured.</param>
/// <param name="FalseRejectRate">The share of the same-person pairs at or above the threshold (weighted as the different pairs: per person for <c>identity-pair</c>).</param>
/// <param name="GenuinePairs">How many same-person pairs were measured.</param>
public sealed record OperatingPoint(double TargetFar, float Threshold, double MeasuredFar, long ImpostorPairs, double FalseRejectRate, long GenuinePairs);

/// <summary>One labelled set behind an <see cref="OperatingPointSet"/>, and how many of its pairs were measured.</summary>
/// <param name="Set">The set, as a path under the data folder.</param>
/// <param name="Input">How its images were read: <c>detect</c> (MTCNN, largest face) or <c>pairs</c> (a labelled pairs list).</param>
/// <param name="People">Identities (0 where only pairs are labelled).</param>
/// <param name="Images">Image files read.</param>
/// <param name="Embedded">Images that gave a face.</param>
/// <param name="GenuinePairs">Same-person pairs measured.</param>
/// <param name="ImpostorPairs">Different-person pairs measured.</param>
public sealed record OperatingPointData(string Set, string Input, int People, int Images, int Embedded, long GenuinePairs, long ImpostorPairs);

/// <summary>How a threshold was obtained from an <see cref="OperatingPointSet"/>.</summary>
public enum OperatingPointRange
{
    /// <summary>At or between two measured points: interpolated linearly in log10(FAR).</summary>
    Interpolated,
    /// <summary>A looser FAR than the loosest point: that point's threshold (stricter than asked, never looser).</summary>
    ClampedToLoosest,
    /// <summary>A stricter FAR than the strictest point: extended along the last two points' line in log10(FAR), not measured.</summary>
    Extrapolated,
    /// <summary>The model has no operating points: its same-person threshold, whatever the FAR.</summary>
    Uncalibrated,
    /// <summary>A threshold given explicitly.</summary>
    Explicit,
}

/// <summary>
/// The measured operating points of an embedder (thresholds for target false-accept rates of one 1:1 comparison) and
/// the data they rest on: what <c>FaceNetSharp.Bench operating-points</c> writes, what the model catalog embeds and
/// writes into each installed card (<c>operating_points</c>), and what 1:N identification derives its threshold from.
/// </summary>
public sealed record OperatingPointSet
{
    /// <summary>The embedder's model name.</summary>
    public required string Model { get; init; }

    /// <summary>The metric of the thresholds (<c>cosine</c> or <c>euclidean</c>).</summary>
    public required string Metric { get; init; }

    /// <summary>When the measurement ran (UTC).</summary>
    public required DateTimeOffset MeasuredAt { get; init; }

    /// <summary>The command that measured it.</summary>
    public required string Command { get; init; }

    /// <summary>How the faces were found and embedded.</summary>
    public required string Pipeline { get; init; }

    /// <summary>The labelled sets, each with its pair counts. Pairs are formed within a set only.</summary>
    public required IReadOnlyList<OperatingPointData> Data { get; init; }

    /// <summary>
    /// How the different-person pairs count towards each point's FAR: <c>pair</c>, every pair of photos alike (a set
    /// weighs as the square of its photos); <c>identity-pair</c>, every pair of identities alike, its photo pairs
    /// sharing its weight (a random stranger against a random enrolled person); <c>set</c>, every set alike. Every
    /// pair is measured and counted in <see cref="OperatingPoint.ImpostorPairs"/> whatever the weighting.
    /// Sets measured before the weighting was recorded were <c>pair</c>.
    /// </summary>
    public string Weighting { get; init; } = "pair";

    /// <summary>The points, loosest (largest FAR) first.</summary>
    public required IReadOnlyList<OperatingPoint> Points { get; init; }

    /// <summary>Different-person pairs behind every point.</summary>
    public long ImpostorPairs => Data.Sum(d => d.ImpostorPairs);

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // readable provenance: the model's template, not the model\u0027s template
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads a set written by <see cref="ToJson"/>; a malformed one is an <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static OperatingPointSet Parse(string json, string what)
    {
        OperatingPointSet? set;
        try
        {
            set = JsonSerializer.Deserialize<OperatingPointSet>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what}: operating points are not valid JSON: {e.Message}", e);
        }
        if (set is null) throw new InvalidDataException($"{what}: no operating points");
        return set.Validated(what);
    }

    /// <summary>Indented snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Checks the points are usable: FAR in (0, 1), finite thresholds, and sorted loosest first with thresholds not rising.</summary>
    public OperatingPointSet Validated(string what)
    {
        if (Points is null || Points.Count == 0) throw new InvalidDataException($"{what}: no operating points");
        for (int i = 0; i < Points.Count; i++)
        {
            var p = Points[i];
            if (p.TargetFar is not (> 0 and < 1) || !float.IsFinite(p.Threshold))
                throw new InvalidDataException($"{what}: operating point {i} needs a FAR in (0, 1) and a finite threshold");
            if (i > 0 && (p.TargetFar >= Points[i - 1].TargetFar || p.Threshold > Points[i - 1].Threshold))
                throw new InvalidDataException($"{what}: operating points must be sorted by FAR, largest first, with thresholds not rising");
        }
        return this;
    }

    /// <summary>
    /// The threshold for a false-accept rate of <paramref name="far"/> per 1:1 comparison: linear in log10(FAR)
    /// between the two measured points around it; at the loosest point's threshold when <paramref name="far"/> is
    /// looser (stricter than asked, never looser); along the strictest two points' line, not below 0, when it is
    /// stricter than every point (the result says so: it was not measured).
    /// </summary>
    public ThresholdChoice ForFar(double far)
    {
        if (far is not (> 0 and < 1) || double.IsNaN(far)) throw new ArgumentOutOfRangeException(nameof(far), far, "a false-accept rate must be in (0, 1)");
        var p = Points;
        if (far >= p[0].TargetFar || p.Count == 1)
            return new ThresholdChoice(p[0].Threshold, far, null, 1, far >= p[0].TargetFar ? OperatingPointRange.ClampedToLoosest : OperatingPointRange.Extrapolated);
        double x = Math.Log10(far);
        int hi = 1;
        while (hi < p.Count - 1 && p[hi].TargetFar > far) hi++;
        var (a, b) = (p[hi - 1], p[hi]);
        double xa = Math.Log10(a.TargetFar), xb = Math.Log10(b.TargetFar);
        double t = a.Threshold + (b.Threshold - a.Threshold) * (xa - x) / (xa - xb);
        var range = far >= b.TargetFar ? OperatingPointRange.Interpolated : OperatingPointRange.Extrapolated;
        return new ThresholdChoice((float)Math.Max(0, t), far, null, 1, range);
    }

    /// <summary>
    /// The threshold for a false-positive identification rate of <paramref name="fpir"/> when each probe is compared
    /// with <paramref name="comparisons"/> enrolled faces: a stranger is named when any comparison accepts, so
    /// FPIR = 1 - (1 - FAR)^N &lt;= N * FAR, and FAR = FPIR / N keeps FPIR at or below the target (see <see cref="FarForFpir"/>).
    /// </summary>
    public ThresholdChoice ForIdentification(double fpir, int comparisons)
    {
        var choice = ForFar(FarForFpir(fpir, comparisons));
        return choice with { Fpir = fpir, Comparisons = Math.Max(1, comparisons) };
    }

    /// <summary>
    /// The per-comparison FAR that keeps the false-positive identification rate at most <paramref name="fpir"/>
    /// over <paramref name="comparisons"/> independent comparisons: FPIR / N, which is at most the exact
    /// 1 - (1 - FPIR)^(1/N) (Bernoulli's inequality), so the conservative side. An empty gallery counts as one.
    /// </summary>
    public static double FarForFpir(double fpir, int comparisons)
    {
        if (fpir is not (> 0 and < 1) || double.IsNaN(fpir)) throw new ArgumentOutOfRangeException(nameof(fpir), fpir, "a false-positive identification rate must be in (0, 1)");
        return fpir / Math.Max(1, comparisons);
    }

    /// <summary>The false-positive identification rate of <paramref name="comparisons"/> independent comparisons at <paramref name="far"/> each: 1 - (1 - FAR)^N.</summary>
    public static double FpirForFar(double far, int comparisons) => 1 - Math.Pow(1 - far, Math.Max(1, comparisons));
}

/// <summary>
/// The threshold an identification used and why: the per-comparison FAR it stands for, and for 1:N the FPIR and the
/// number of comparisons it was derived from.
/// </summary>
/// <param name="Threshold">The threshold, in the model's metric.</param>
/// <param name="Far">The per-comparison false-accept rate it stands for (NaN for <see cref="OperatingPointRange.Explicit"/> and <see cref="OperatingPointRange.Uncalibrated"/>).</param>
/// <param name="Fpir">The false-positive identification rate asked for, when it was derived from one.</param>
/// <param name="Comparisons">The gallery size it was derived for (1 for a plain FAR).</param>
/// <param name="Range">How it was obtained from the operating points.</param>
public sealed record ThresholdChoice(float Threshold, double Far, double? Fpir, int Comparisons, OperatingPointRange Range)
{
    /// <summary>An explicit threshold (<c>--threshold</c>).</summary>
    public static ThresholdChoice Explicit(float threshold) => new(threshold, double.NaN, null, 0, OperatingPointRange.Explicit);

    /// <summary>The model's same-person threshold, for a model without operating points.</summary>
    public static ThresholdChoice Uncalibrated(float threshold, double? fpir, int comparisons) =>
        new(threshold, double.NaN, fpir, comparisons, OperatingPointRange.Uncalibrated);

    /// <summary>
    /// One line for people, e.g. "threshold 0.470 for FPIR 1% at 120 people (FAR 8.3e-05 per comparison, interpolated
    /// between the model's operating points)".
    /// </summary>
    /// <param name="unit">What the comparisons are ("people", "classes"); said in the singular for one comparison.</param>
    public string Describe(string unit = "people")
    {
        var c = CultureInfo.InvariantCulture;
        if (Comparisons == 1) unit = unit switch { "people" => "person", "classes" => "class", _ => unit };
        var t = Threshold.ToString("F3", c);
        string how = Range switch
        {
            OperatingPointRange.Interpolated => "interpolated between the model's operating points",
            OperatingPointRange.ClampedToLoosest => "the model's loosest operating point, stricter than asked",
            OperatingPointRange.Extrapolated => "extrapolated beyond the model's strictest operating point, not measured",
            _ => "",
        };
        return Range switch
        {
            OperatingPointRange.Explicit => $"threshold {t} (given)",
            OperatingPointRange.Uncalibrated =>
                $"threshold {t}: the model's same-person threshold (the model has no operating points, so {(Fpir is { } f ? "FPIR " + Percent(f) : "a FAR")} cannot be targeted)",
            _ when Fpir is { } f => $"threshold {t} for FPIR {Percent(f)} at {Comparisons} {unit} (FAR {Far.ToString("0.0#e+00", c)} per comparison, {how})",
            _ => $"threshold {t} for FAR {Far.ToString("0.0#e+00", c)} per comparison ({how})",
        };
    }

    private static string Percent(double p) => (p * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%";
}
