using FaceNetSharp.Embedding;

namespace FaceNetSharp.Evaluation;

/// <summary>Protocol settings of <see cref="PairValidation"/> (facenet validate_on_lfw.py's flags).</summary>
public sealed record PairValidationSettings
{
    /// <summary>Cross-validation folds (facenet --lfw_nrof_folds, default 10).</summary>
    public int Folds { get; init; } = 10;

    /// <summary>Distance between embeddings (facenet --distance_metric: 0 squared euclidean, 1 angular "cosine").</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.SquaredEuclidean;

    /// <summary>Subtract the training folds' mean embedding before measuring distances (facenet --subtract_mean).</summary>
    public bool SubtractMean { get; init; }

    /// <summary>FAR at which VAL is reported (facenet: 1e-3).</summary>
    public double FarTarget { get; init; } = 1e-3;
}

/// <summary>The outcome of <see cref="PairValidation"/>.Run.</summary>
/// <param name="Report">The metrics over the pairs used.</param>
/// <param name="PairsUsed">Pairs with both images found and embedded.</param>
/// <param name="PairsMissing">Pairs left out: an image file is missing, unreadable, of the wrong size, or holds no face.</param>
/// <param name="MissingImages">Images of the pairs file with no file, as <c>Name/Name_0001</c>, sorted.</param>
/// <param name="UnusableImages">Image files found that gave no embedding (unreadable, wrong size, no face), with the reason.</param>
/// <param name="ImagesEmbedded">Distinct images embedded.</param>
/// <param name="EmbeddingTime">Time spent reading and embedding the images.</param>
public sealed record PairValidationResult(
    VerificationReport Report,
    int PairsUsed,
    int PairsMissing,
    IReadOnlyList<string> MissingImages,
    IReadOnlyList<FileEmbedding> UnusableImages,
    int ImagesEmbedded,
    TimeSpan EmbeddingTime);

/// <summary>
/// facenet's validate_on_lfw.py on a folder of images: resolve the pairs file's images, embed each distinct image once
/// (in batches), and evaluate the pairs with <see cref="LfwEvaluation"/>. Pairs whose images are missing or give no
/// embedding are counted and left out, not fatal (facenet aborts on a missing file).
/// </summary>
public static class PairValidation
{
    /// <summary>Runs the protocol.</summary>
    /// <param name="pairs">The parsed pairs file.</param>
    /// <param name="imageDir">Folder with one sub-folder per person (<c>Name/Name_0001.png</c>).</param>
    /// <param name="embedder">Embeds the image files (chips with <see cref="ImageFileEmbedderOptions.Aligned"/>, else photos).</param>
    /// <param name="settings">Folds, metric, mean subtraction, FAR target.</param>
    /// <param name="onImage">Called once per distinct image after it is embedded (or failed), in order.</param>
    /// <param name="cancellation">Stops between batches.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="imageDir"/> does not exist.</exception>
    /// <exception cref="ArgumentException">Fewer usable pairs than folds, or only one kind of pair.</exception>
    public static PairValidationResult Run(LfwPairs pairs, string imageDir, ImageFileEmbedder embedder, PairValidationSettings? settings = null,
        Action<FileEmbedding>? onImage = null, CancellationToken cancellation = default) =>
        Run(pairs.Resolve(imageDir), embedder, settings, onImage, cancellation);

    /// <summary>Runs the protocol on pairs already resolved to files (<see cref="LfwPairs.Resolve"/>), for a caller that looked at them first.</summary>
    public static PairValidationResult Run(LfwResolvedPairs resolved, ImageFileEmbedder embedder, PairValidationSettings? settings = null,
        Action<FileEmbedding>? onImage = null, CancellationToken cancellation = default)
    {
        settings ??= new PairValidationSettings();
        int total = resolved.Pairs.Count + resolved.SkippedPairs.Count;
        var paths = resolved.Pairs.SelectMany(p => new[] { p.Path1, p.Path2 }).Distinct(StringComparer.Ordinal).ToList();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var embedded = embedder.Embed(paths, onImage, cancellation);
        var time = started.Elapsed;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var e in embedded)
            if (e.Vector is not null) vectors[e.Path] = e.Vector;

        var e1 = new List<float[]>();
        var e2 = new List<float[]>();
        var same = new List<bool>();
        foreach (var p in resolved.Pairs)
        {
            if (!vectors.TryGetValue(p.Path1, out var a) || !vectors.TryGetValue(p.Path2, out var b)) continue;
            e1.Add(a);
            e2.Add(b);
            same.Add(p.Pair.IsSame);
        }
        int sameCount = same.Count(s => s), differentCount = same.Count - sameCount;
        if (same.Count < settings.Folds)
            throw new ArgumentException($"only {same.Count} of {total} pairs have both images embedded; {settings.Folds} folds need at least {settings.Folds}");
        if (sameCount == 0 || differentCount == 0)
            throw new ArgumentException($"the usable pairs are {sameCount} same-person and {differentCount} different-person pairs; verification needs both");

        var report = LfwEvaluation.Evaluate(e1, e2, same, settings.Folds, settings.Metric, settings.SubtractMean, settings.FarTarget);
        return new PairValidationResult(report, same.Count, total - same.Count, resolved.MissingImages,
            embedded.Where(e => e.Vector is null).ToList(), vectors.Count, time);
    }
}
