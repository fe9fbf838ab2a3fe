using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Embedding;

/// <summary>Settings of <see cref="ImageFileEmbedder"/>.</summary>
public sealed record ImageFileEmbedderOptions
{
    /// <summary>
    /// The files are chips already aligned to the model's template at its input size (as <c>facenet align --mode
    /// similarity</c> writes them): no detection. Otherwise each file is a photo: detect, keep the largest face, align.
    /// </summary>
    public bool Aligned { get; init; }

    /// <summary>Files read, detected and aligned before one embedder call (facenet validate_on_lfw.py --lfw_batch_size).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Files loaded and detected at once inside a batch.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;
}

/// <summary>What happened to one file.</summary>
public enum FileEmbeddingOutcome
{
    /// <summary>A vector was made.</summary>
    Embedded,
    /// <summary>The photo was read but holds no face.</summary>
    NoFace,
    /// <summary>The file could not be read; <see cref="FileEmbedding.Error"/> says why.</summary>
    Failed,
    /// <summary>An aligned chip (<see cref="ImageFileEmbedderOptions.Aligned"/>) is not the model's input size; <see cref="FileEmbedding.Error"/> says both.</summary>
    WrongSize,
}

/// <summary>The embedding of one file.</summary>
/// <param name="Path">The file as given.</param>
/// <param name="Outcome">Whether a vector was made.</param>
/// <param name="Vector">Unit-length embedding, null unless <see cref="FileEmbeddingOutcome.Embedded"/>.</param>
/// <param name="FaceCount">Faces the detector found (1 for an aligned chip, 0 when not read).</param>
/// <param name="Face">The face embedded (the largest); null for chips and failures.</param>
/// <param name="Error">Why it failed, naming the file; null otherwise.</param>
public sealed record FileEmbedding(string Path, FileEmbeddingOutcome Outcome, float[]? Vector, int FaceCount, DetectedFace? Face, string? Error);

/// <summary>
/// Embeds image files in batches with a <see cref="FaceRecognizer"/>: photos are detected (MTCNN), the largest face is
/// aligned onto the model's template, and the chips of a batch go to the embedder in one call. A bad file is a
/// <see cref="FileEmbeddingOutcome.Failed"/> result naming it, never an exception; the other files go on.
/// Thread-safe as long as the recognizer is (one call at a time is the intended use).
/// </summary>
public sealed class ImageFileEmbedder
{
    private readonly FaceRecognizer _recognizer;
    private readonly ImageFileEmbedderOptions _options;

    /// <summary>Embeds image files with <paramref name="recognizer"/> (not disposed by it), as <paramref name="options"/> say.</summary>
    public ImageFileEmbedder(FaceRecognizer recognizer, ImageFileEmbedderOptions? options = null)
    {
        _recognizer = recognizer;
        _options = options ?? new ImageFileEmbedderOptions();
        if (_options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be at least 1");
        if (_options.Workers < 1) throw new ArgumentOutOfRangeException(nameof(options), "Workers must be at least 1");
    }

    /// <summary>
    /// One result per path, in order. <paramref name="onItem"/> is called once per file on the calling thread, in
    /// order, after its batch is embedded.
    /// </summary>
    public IReadOnlyList<FileEmbedding> Embed(IReadOnlyList<string> paths, Action<FileEmbedding>? onItem = null, CancellationToken cancellation = default)
    {
        var results = new FileEmbedding[paths.Count];
        var chips = new RgbImage?[Math.Min(_options.BatchSize, paths.Count)];
        for (int start = 0; start < paths.Count; start += _options.BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(_options.BatchSize, paths.Count - start);
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _options.Workers, CancellationToken = cancellation }, k =>
            {
                (results[start + k], chips[k]) = Prepare(paths[start + k]);
            });
            var ready = Enumerable.Range(0, count).Where(k => chips[k] is not null).ToList();
            if (ready.Count > 0)
            {
                var vectors = _recognizer.EmbedAligned(ready.Select(k => chips[k]!).ToList());
                for (int j = 0; j < ready.Count; j++)
                {
                    int i = start + ready[j];
                    results[i] = results[i] with { Outcome = FileEmbeddingOutcome.Embedded, Vector = vectors[j] };
                }
            }
            Array.Clear(chips);
            if (onItem is not null)
                for (int k = 0; k < count; k++) onItem(results[start + k]);
        }
        return results;
    }

    // The chip to embed, or null with the reason in the result.
    private (FileEmbedding Result, RgbImage? Chip) Prepare(string path)
    {
        RgbImage image;
        try
        {
            image = ImageLoader.Load(path);
        }
        catch (ImageLoadException e)
        {
            return (new FileEmbedding(path, FileEmbeddingOutcome.Failed, null, 0, null, e.Message), null);
        }
        var info = _recognizer.Model;
        if (_options.Aligned)
        {
            if (AlignedChips.SizeError(path, image, info) is { } wrongSize)
                return (new FileEmbedding(path, FileEmbeddingOutcome.WrongSize, null, 0, null, wrongSize), null);
            return (new FileEmbedding(path, FileEmbeddingOutcome.Failed, null, 1, null, null), image);
        }
        var faces = _recognizer.Detect(image);
        int best = FaceSelection.PickLargest(faces);
        if (best < 0) return (new FileEmbedding(path, FileEmbeddingOutcome.NoFace, null, 0, null, null), null);
        // Outcome is set to Embedded once the batch has its vectors.
        return (new FileEmbedding(path, FileEmbeddingOutcome.Failed, null, faces.Count, faces[best], null), _recognizer.Align(image, faces[best]));
    }
}
