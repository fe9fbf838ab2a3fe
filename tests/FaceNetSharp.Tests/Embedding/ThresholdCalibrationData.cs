using System.Globalization;
using FaceNetSharp.Embedding;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Tests.Embedding;

/// <summary>A labelled verification pair of image files.</summary>
internal sealed record FilePair(string A, string B, bool Same);

/// <summary>How a threshold does on a set of pairs (a pair is "same" when its distance is below the threshold).</summary>
internal sealed record PairScore(int Pairs, int SamePairs, int Skipped, double Accuracy, double BalancedAccuracy, double FalseAcceptRate, double FalseRejectRate)
{
    public static PairScore At(IReadOnlyList<(float Distance, bool Same)> d, float threshold, int skipped)
    {
        int same = d.Count(x => x.Same), diff = d.Count - same;
        int falseReject = d.Count(x => x.Same && x.Distance >= threshold);
        int falseAccept = d.Count(x => !x.Same && x.Distance < threshold);
        double far = (double)falseAccept / diff, frr = (double)falseReject / same;
        return new PairScore(d.Count, same, skipped, 1 - (double)(falseAccept + falseReject) / d.Count, 1 - (far + frr) / 2, far, frr);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Pairs} pairs ({SamePairs} same, {Skipped} skipped): accuracy {Accuracy:F4}, balanced {BalancedAccuracy:F4} (FAR {FalseAcceptRate:F4}, FRR {FalseRejectRate:F4})");
}

/// <summary>
/// The two real labelled sets the default thresholds are calibrated and checked on, and the calibration itself: embed
/// every image with the full pipeline (MTCNN → similarity warp onto the model's template → embedder), measure the
/// model's distance for every pair, and take the threshold of best balanced accuracy
/// (<see cref="ThresholdCalibration.FromDistances"/>: midpoints between consecutive distances).
/// </summary>
internal static class ThresholdCalibrationData
{
    /// <summary>
    /// kz-celebs-talgin/our_dataset: 25 people, ~90 112x112 face crops each (aligned with a facenet
    /// align_dataset_mtcnn.py variant, so not on our templates: MTCNN runs again on the crop). The first
    /// <paramref name="perPerson"/> images of each person by name; every pair of them (all same pairs, all different pairs).
    /// </summary>
    public static List<FilePair> KzCelebsPairs(string root, int perPerson)
    {
        var people = Directory.GetDirectories(root).Order(StringComparer.Ordinal)
            .Select(d => Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).Take(perPerson).Select(f => (Person: Path.GetFileName(d), File: f)))
            .SelectMany(x => x).ToList();
        var pairs = new List<FilePair>();
        for (int i = 0; i < people.Count; i++)
            for (int j = i + 1; j < people.Count; j++)
                pairs.Add(new FilePair(people[i].File, people[j].File, people[i].Person == people[j].Person));
        return pairs;
    }

    /// <summary>deepface's unit-test set: raw photos and master.csv (<c>file_x,file_y,Decision</c> with Yes/No).</summary>
    public static List<FilePair> DeepfacePairs(string datasetDir)
    {
        var pairs = new List<FilePair>();
        foreach (var line in File.ReadLines(Path.Combine(datasetDir, "master.csv")).Skip(1))
        {
            var f = line.Trim().Split(',');
            if (f.Length != 3) continue;
            pairs.Add(new FilePair(Path.Combine(datasetDir, f[0]), Path.Combine(datasetDir, f[1]), f[2].Trim() == "Yes"));
        }
        return pairs;
    }

    /// <summary>The model's distance of each pair whose two images gave an embedding, and how many were skipped.</summary>
    public static (List<(float Distance, bool Same)> Distances, int Skipped) Distances(FaceRecognizer recognizer, IReadOnlyList<FilePair> pairs)
    {
        var files = pairs.SelectMany(p => new[] { p.A, p.B }).Distinct().ToList();
        var embedded = new ImageFileEmbedder(recognizer, new ImageFileEmbedderOptions { BatchSize = 32 }).Embed(files);
        var vectors = embedded.Where(e => e.Vector is not null).ToDictionary(e => e.Path, e => e.Vector!);
        var result = new List<(float, bool)>();
        int skipped = 0;
        foreach (var p in pairs)
        {
            if (vectors.TryGetValue(p.A, out var a) && vectors.TryGetValue(p.B, out var b)) result.Add((recognizer.Distance(a, b), p.Same));
            else skipped++;
        }
        return (result, skipped);
    }

    /// <summary>The threshold of best balanced accuracy on the distances.</summary>
    public static ThresholdCalibration Calibrate(IReadOnlyList<(float Distance, bool Same)> d, EmbeddingMetric metric) =>
        ThresholdCalibration.FromDistances(
            d.Where(x => x.Same).Select(x => x.Distance).ToList(),
            d.Where(x => !x.Same).Select(x => x.Distance).ToList(),
            metric == EmbeddingMetric.Cosine ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean,
            ThresholdObjective.BestBalancedAccuracy);
}
