using FaceNetSharp.Embedding;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>The operating-point math: FPIR to per-comparison FAR, log-FAR interpolation, clamping, extrapolation, the choice of threshold.</summary>
public sealed class OperatingPointsTests
{
    // Three points a decade apart: 1e-2 -> 0.5, 1e-3 -> 0.4, 1e-4 -> 0.25 (made up; the shapes matter, not the numbers).
    private static OperatingPointSet Points() => new OperatingPointSet
    {
        Model = "test",
        Metric = "cosine",
        MeasuredAt = DateTimeOffset.UnixEpoch,
        Command = "test",
        Pipeline = "test",
        Data = [new OperatingPointData("set", "detect", 10, 100, 100, 450, 4500)],
        Points =
        [
            new OperatingPoint(1e-2, 0.5f, 1e-2, 4500, 0.01, 450),
            new OperatingPoint(1e-3, 0.4f, 1e-3, 4500, 0.05, 450),
            new OperatingPoint(1e-4, 0.25f, 1e-4, 4500, 0.2, 450),
        ],
    }.Validated("test");

    [Fact]
    public void A_measured_far_gives_its_own_threshold()
    {
        var p = Points();
        Assert.Equal(0.5f, p.ForFar(1e-2).Threshold, 5);
        Assert.Equal(0.4f, p.ForFar(1e-3).Threshold, 5);
        Assert.Equal(0.25f, p.ForFar(1e-4).Threshold, 5);
        Assert.Equal(OperatingPointRange.Interpolated, p.ForFar(1e-4).Range);
    }

    [Fact]
    public void Between_two_points_the_threshold_is_linear_in_log_far()
    {
        var p = Points();
        // halfway in log10 between 1e-3 and 1e-4 (3.16e-4): halfway between 0.4 and 0.25
        var mid = p.ForFar(Math.Pow(10, -3.5));
        Assert.Equal(0.325f, mid.Threshold, 4);
        Assert.Equal(OperatingPointRange.Interpolated, mid.Range);
        // a quarter of the way from 1e-2 to 1e-3
        Assert.Equal(0.475f, p.ForFar(Math.Pow(10, -2.25)).Threshold, 4);
    }

    [Fact]
    public void A_looser_far_than_measured_is_clamped_to_the_strict_side_and_a_stricter_one_is_extrapolated()
    {
        var p = Points();
        var loose = p.ForFar(0.2);
        Assert.Equal(0.5f, loose.Threshold);   // never looser than the loosest measured point
        Assert.Equal(OperatingPointRange.ClampedToLoosest, loose.Range);
        var strict = p.ForFar(1e-5);
        Assert.Equal(OperatingPointRange.Extrapolated, strict.Range);
        Assert.Equal(0.1f, strict.Threshold, 4);   // the 1e-3 -> 1e-4 line continued one decade
        Assert.Equal(0f, p.ForFar(1e-9).Threshold); // not below 0
    }

    [Fact]
    public void Fpir_is_divided_among_the_comparisons()
    {
        Assert.Equal(1e-4, OperatingPointSet.FarForFpir(0.01, 100), 12);
        Assert.Equal(0.01, OperatingPointSet.FarForFpir(0.01, 0), 12);   // an empty gallery counts as one
        // FPIR/N is the conservative side of the exact inverse: N comparisons at FPIR/N never exceed FPIR.
        foreach (int n in new[] { 1, 5, 120, 10_000 })
        {
            double far = OperatingPointSet.FarForFpir(0.01, n);
            Assert.True(OperatingPointSet.FpirForFar(far, n) <= 0.01 + 1e-15, $"N = {n}");
            Assert.True(far <= 1 - Math.Pow(1 - 0.01, 1.0 / n) + 1e-15, $"N = {n}");
        }
        // 120 faces at FPIR 1%: FAR 8.3e-5, between the 1e-4 and (extrapolated) 1e-5 points, so stricter than 1e-4's
        var choice = Points().ForIdentification(0.01, 120);
        Assert.Equal(0.01 / 120, choice.Far, 12);
        Assert.True(choice.Threshold < 0.25f);
        Assert.Equal(120, choice.Comparisons);
        Assert.Contains("for FPIR 1% at 120 people", choice.Describe());
        // one enrolled person (or class) is said in the singular
        Assert.Contains("for FPIR 1% at 1 person (", Points().ForIdentification(0.01, 1).Describe());
        Assert.Contains("for FPIR 1% at 1 class (", Points().ForIdentification(0.01, 1).Describe("classes"));
        // a bigger gallery never gets a looser threshold
        Assert.True(Points().ForIdentification(0.01, 10).Threshold > Points().ForIdentification(0.01, 11).Threshold);
    }

    [Fact]
    public void The_choice_takes_an_explicit_threshold_over_far_over_fpir_and_says_when_the_model_is_uncalibrated()
    {
        var model = Embedders.MobileFaceNet with { OperatingPoints = Points(), Threshold = 0.59f };
        Assert.Equal(0.33f, IdentificationThreshold.Choose(model, 500, threshold: 0.33f, fpir: 0.01).Threshold);
        Assert.Equal(0.4f, IdentificationThreshold.Choose(model, 500, far: 1e-3).Threshold, 5);
        Assert.Equal(Points().ForIdentification(0.01, 5).Threshold, IdentificationThreshold.Choose(model, 5).Threshold);
        Assert.Equal(IdentificationThreshold.DefaultFpir, IdentificationThreshold.Choose(model, 5).Fpir);
        Assert.Throws<ArgumentException>(() => IdentificationThreshold.Choose(model, 5, far: 1e-3, fpir: 0.01));
        Assert.Throws<ArgumentException>(() => IdentificationThreshold.Choose(model, 5, fpir: 1.5));
        Assert.Throws<ArgumentException>(() => IdentificationThreshold.Choose(model, 5, far: 0));
        Assert.Throws<ArgumentException>(() => IdentificationThreshold.Choose(model, 5, threshold: float.NaN));

        var bare = model with { OperatingPoints = null };
        var fallback = IdentificationThreshold.Choose(bare, 5);
        Assert.Equal(0.59f, fallback.Threshold);
        Assert.Equal(OperatingPointRange.Uncalibrated, fallback.Range);
        Assert.Contains("no operating points", fallback.Describe());
    }

    [Fact]
    public void Unsorted_or_rising_points_are_refused_and_the_json_round_trips()
    {
        var p = Points();
        var back = OperatingPointSet.Parse(p.ToJson(), "round trip");
        Assert.Equal(p.Points, back.Points);
        Assert.Equal(p.Data, back.Data);
        var rising = p with { Points = [p.Points[0], p.Points[1] with { Threshold = 0.6f }] };
        Assert.Throws<InvalidDataException>(() => rising.Validated("rising"));
        Assert.Throws<InvalidDataException>(() => (p with { Points = [] }).Validated("empty"));
        Assert.Throws<InvalidDataException>(() => OperatingPointSet.Parse("{\"points\": [", "broken"));
    }

    [Fact]
    public void The_built_in_embedders_carry_measured_points_from_1e_2_to_1e_5()
    {
        foreach (var model in new[] { Embedders.MobileFaceNet, Embedders.DlibResNet })
        {
            var points = model.OperatingPoints;
            Assert.NotNull(points);
            foreach (var far in new[] { 1e-2, 1e-3, 1e-4, 1e-5 })
                Assert.Contains(points!.Points, p => Math.Abs(p.TargetFar - far) < far * 1e-9);
            // each point rests on enough different pairs to measure its FAR: at least 10 accepted at 1e-5
            Assert.All(points!.Points, p => Assert.True(p.ImpostorPairs * p.TargetFar >= 10, $"{p.TargetFar}: {p.ImpostorPairs} pairs"));
            Assert.True(points.ImpostorPairs >= 2_000_000, $"{points.ImpostorPairs}");
            // weighted per identity pair, so that kz-celebs' 2.46M photo pairs (25 people) count as its 300 pairs of
            // people, not as 97% of the estimate (the measurement behind the choice is in the .md beside the card)
            Assert.Equal("identity-pair", points.Weighting);
            // 1:1 verification keeps its balanced threshold; 1:N at FAR 1e-2 is already stricter
            Assert.True(points.Points[0].Threshold < model.Threshold);
        }
    }
}
