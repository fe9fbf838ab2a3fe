using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Embedding;
using FaceNetSharp.IO;

namespace FaceNetSharp.Evaluation;

/// <summary>How a <see cref="PairValidation"/> run was made, beyond its <see cref="PairValidationSettings"/>: recorded in its report.</summary>
/// <param name="ImagesDir">The folder of chips (or photos) that was embedded.</param>
/// <param name="PairsFile">The pairs file.</param>
/// <param name="RawDir">The raw photos the chips were aligned from during the run; null when the chips were given.</param>
/// <param name="Flip">Whether the mirrored face's embedding was added (facenet --use_flipped_images).</param>
/// <param name="BatchSize">Images per embedder call (facenet --lfw_batch_size).</param>
public sealed record PairValidationRun(string ImagesDir, string PairsFile, string? RawDir, bool Flip, int BatchSize);

/// <summary>
/// The JSON report of a <see cref="PairValidation"/> run: facenet's figures (accuracy, VAL@FAR, AUC, EER), TAR at fixed
/// FARs, the pairs and images left out with the reason, the model (name, SHA-256, its own threshold) and the settings.
/// A figure that is not a number (too few pairs for it) is written as null, so the file always parses.
/// </summary>
public static class PairValidationReport
{
    /// <summary>Writes the report to <paramref name="path"/> atomically (a reader never sees half a file).</summary>
    public static void Write(string path, PairValidationResult result, EmbedderInfo model, PairValidationSettings settings, PairValidationRun run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.Write(path, ToJson(result, model, settings, run));
    }

    /// <summary>The report as indented UTF-8 JSON.</summary>
    public static byte[] ToJson(PairValidationResult result, EmbedderInfo model, PairValidationSettings settings, PairValidationRun run)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(run);
        var r = result.Report;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            Number(w, "accuracy", r.Accuracy);
            Number(w, "accuracy_std", r.AccuracyStd);
            Number(w, "val", r.Val);
            Number(w, "val_std", r.ValStd);
            Number(w, "far", r.Far);
            Number(w, "auc", r.Auc);
            Number(w, "eer", r.Eer);
            w.WriteNumber("pairs_used", result.PairsUsed);
            w.WriteNumber("pairs_missing", result.PairsMissing);
            w.WriteNumber("same_pairs", r.SamePairs);
            w.WriteNumber("different_pairs", r.DifferentPairs);
            w.WriteStartArray("fold_accuracies");
            foreach (var a in r.FoldAccuracies) Number(w, null, a);
            w.WriteEndArray();
            Number(w, "best_threshold", r.BestThreshold);
            w.WriteStartObject("tar_at_far");
            foreach (var (far, tar) in r.TarAtFar.OrderByDescending(k => k.Key))
                Number(w, far.ToString("0e0", CultureInfo.InvariantCulture), tar);
            w.WriteEndObject();
            w.WriteStartArray("missing_images");
            foreach (var m in result.MissingImages) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteStartArray("unusable_images");
            foreach (var u in result.UnusableImages)
            {
                w.WriteStartObject();
                w.WriteString("file", u.Path);
                w.WriteString("reason", u.Outcome == FileEmbeddingOutcome.NoFace ? "no face" : u.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", model.Name);
            w.WriteString("model_sha256", model.Sha256);
            w.WritePropertyName("model_threshold");
            if (float.IsFinite(model.Threshold)) w.WriteNumberValue(model.Threshold); else w.WriteNullValue();
            w.WriteStartObject("settings");
            w.WriteString("images_dir", run.ImagesDir);
            w.WriteString("raw_dir", run.RawDir);
            w.WriteString("pairs_file", run.PairsFile);
            w.WriteNumber("folds", settings.Folds);
            w.WriteString("distance", settings.Metric == DistanceMetric.Cosine ? "cosine" : "euclidean");
            w.WriteNumber("distance_metric", (int)settings.Metric);
            w.WriteBoolean("subtract_mean", settings.SubtractMean);
            w.WriteBoolean("flip", run.Flip);
            w.WriteNumber("batch_size", run.BatchSize);
            Number(w, "far_target", settings.FarTarget);
            w.WriteBoolean("aligned_on_the_fly", run.RawDir is not null);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    // JSON has no NaN or infinity: such a figure (e.g. VAL with no different pair in a fold) is null.
    private static void Number(Utf8JsonWriter w, string? name, double? value)
    {
        if (name is not null) w.WritePropertyName(name);
        if (value is { } v && double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteNullValue();
    }
}
