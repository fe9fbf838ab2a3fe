using FaceNetSharp.Training.Runs;

namespace FaceNetSharp.Training.Tests;

/// <summary>The line training prints per epoch names each figure it shows (issue 9, paper cut 9).</summary>
public sealed class EpochLineTests
{
    [Fact]
    public void Verification_figures_name_the_metric_and_what_the_accuracy_is()
    {
        var r = new EpochResult(3, 300, 1.25, 0.5, 0.01, 20, 60, null, null, LfwAccuracy: 0.523, LfwThreshold: 0.864);
        var line = TrainingRun.Describe(r);
        Assert.Contains("pairs verification: accuracy 0.523 (share of same/different pairs judged right, cross-validated)", line);
        Assert.Contains("cosine distance < 0.864", line);
        Assert.DoesNotContain("(threshold", line);
    }
}
