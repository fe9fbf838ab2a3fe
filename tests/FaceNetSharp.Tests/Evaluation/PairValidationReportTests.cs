using System.Text.Json;
using FaceNetSharp.Alignment;
using FaceNetSharp.Embedding;
using FaceNetSharp.Evaluation;

namespace FaceNetSharp.Tests.Evaluation;

/// <summary>Issue 12, the design review: the validation report's JSON is made by the library, so any program writes the same file.</summary>
public sealed class PairValidationReportTests
{
    private static readonly EmbedderInfo Model =
        new("test-model", 112, [127.5f, 127.5f, 127.5f], 1 / 128f, AlignmentTemplate.ArcFace112, 4, EmbeddingMetric.Cosine, 1.1f, new string('a', 64));

    private static PairValidationResult Result(double val)
    {
        var report = new VerificationReport(0.95, 0.01, [0.9, 1.0], [1.1, 1.2], 1.15, val, 0.0, 0.001, 1e-3, 0.98, 0.04,
            [0, 0.01], [0, 0], [0, 1], new Dictionary<double, double?> { [1e-4] = null, [1e-2] = 0.9, [1e-3] = 0.8 }, 20, 10, 10, 2);
        return new PairValidationResult(report, 20, 1, ["Nobody/Nobody_0001"],
            [new FileEmbedding("/x/a.png", FileEmbeddingOutcome.NoFace, null, 0, null, null),
             new FileEmbedding("/x/b.png", FileEmbeddingOutcome.WrongSize, null, 0, null, "/x/b.png: the chip is 160x160")], 39, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void The_report_holds_the_figures_the_model_and_the_settings()
    {
        var settings = new PairValidationSettings { Folds = 2, Metric = DistanceMetric.Cosine, SubtractMean = true };
        var json = PairValidationReport.ToJson(Result(0.7), Model, settings, new PairValidationRun("/chips", "/pairs.txt", "/raw", Flip: true, BatchSize: 16));
        using var doc = JsonDocument.Parse(json);
        var j = doc.RootElement;
        Assert.Equal(0.95, j.GetProperty("accuracy").GetDouble());
        Assert.Equal(0.7, j.GetProperty("val").GetDouble());
        Assert.Equal(20, j.GetProperty("pairs_used").GetInt32());
        Assert.Equal(1, j.GetProperty("pairs_missing").GetInt32());
        Assert.Equal([0.9, 1.0], j.GetProperty("fold_accuracies").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(["1e-2", "1e-3", "1e-4"], j.GetProperty("tar_at_far").EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, j.GetProperty("tar_at_far").GetProperty("1e-4").ValueKind);
        Assert.Equal("Nobody/Nobody_0001", j.GetProperty("missing_images")[0].GetString());
        Assert.Equal("no face", j.GetProperty("unusable_images")[0].GetProperty("reason").GetString());
        Assert.Equal("/x/b.png: the chip is 160x160", j.GetProperty("unusable_images")[1].GetProperty("reason").GetString());
        Assert.Equal("test-model", j.GetProperty("model").GetString());
        Assert.Equal("1.1", j.GetProperty("model_threshold").GetRawText());
        var s = j.GetProperty("settings");
        Assert.Equal("cosine", s.GetProperty("distance").GetString());
        Assert.Equal(1, s.GetProperty("distance_metric").GetInt32());
        Assert.True(s.GetProperty("subtract_mean").GetBoolean());
        Assert.True(s.GetProperty("flip").GetBoolean());
        Assert.Equal(16, s.GetProperty("batch_size").GetInt32());
        Assert.Equal("/raw", s.GetProperty("raw_dir").GetString());
        Assert.True(s.GetProperty("aligned_on_the_fly").GetBoolean());
    }

    [Fact]
    public void A_figure_that_is_not_a_number_is_null_and_the_file_still_parses()
    {
        var json = PairValidationReport.ToJson(Result(double.NaN), Model, new PairValidationSettings(), new PairValidationRun("/chips", "/pairs.txt", null, false, 64));
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("val").ValueKind);
        Assert.False(doc.RootElement.GetProperty("settings").GetProperty("aligned_on_the_fly").GetBoolean());
        Assert.Equal("euclidean", doc.RootElement.GetProperty("settings").GetProperty("distance").GetString());
    }

    [Fact]
    public void Write_replaces_the_file_whole()
    {
        using var tmp = new TempFolder();
        var path = tmp.Combine("report.json");
        File.WriteAllText(path, "old");
        PairValidationReport.Write(path, Result(0.7), Model, new PairValidationSettings(), new PairValidationRun("/chips", "/pairs.txt", null, false, 64));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        Assert.Equal(0.95, doc.RootElement.GetProperty("accuracy").GetDouble());
        Assert.Single(Directory.GetFiles(tmp.Path));
    }
}
