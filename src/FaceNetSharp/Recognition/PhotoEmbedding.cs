using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Recognition;

/// <summary>How image files become faces to embed.</summary>
public enum FaceInput
{
    /// <summary>Photos: MTCNN finds the faces, each is aligned on the embedder's template (<see cref="FaceRecognizer"/>).</summary>
    Detect,

    /// <summary>
    /// Each file is already one aligned face chip at the embedder's input size, on its template (e.g. the output of
    /// <c>facenet align --mode similarity</c>): it is embedded as it is, no detection runs. A file of another size
    /// is <see cref="PhotoOutcome.Failed"/> with an error giving both sizes, as <see cref="Embedding.ImageFileEmbedder"/>
    /// answers it: resizing would embed a face off the model's template without a word.
    /// </summary>
    Aligned,
}

/// <summary>What happened to one image file.</summary>
public enum PhotoOutcome
{
    /// <summary>At least one face was embedded.</summary>
    Embedded,
    /// <summary>The image loaded but MTCNN found no face in it.</summary>
    NoFace,
    /// <summary>
    /// The file could not be read as an image, or, as an aligned chip, is not the embedder's input size (see
    /// <see cref="PhotoFaces.Error"/>).
    /// </summary>
    Failed,
}

/// <summary>One face of an image file, with the chip the embedder saw and its embedding.</summary>
/// <param name="Index">The face's index in the detector's output (highest score first); 0 for an aligned chip.</param>
/// <param name="Face">The detection, in the photo's pixel coordinates; null for an aligned chip.</param>
/// <param name="Chip">The aligned chip that was embedded (embedder input size).</param>
/// <param name="Vector">The unit-length embedding.</param>
public sealed record PhotoFace(int Index, DetectedFace? Face, RgbImage Chip, float[] Vector);

/// <summary>The faces of one image file, or why there are none.</summary>
/// <param name="Path">The file.</param>
/// <param name="Outcome">Embedded, no face, or failed.</param>
/// <param name="Faces">The embedded faces (empty unless <see cref="PhotoOutcome.Embedded"/>).</param>
/// <param name="Error">Why the file failed, naming it; null otherwise.</param>
public sealed record PhotoFaces(string Path, PhotoOutcome Outcome, IReadOnlyList<PhotoFace> Faces, string? Error)
{
    /// <summary>The largest face by box area (the one facenet's alignment keeps), or the chip; null when none.</summary>
    public PhotoFace? Largest => Faces.Count == 0 ? null
        : Faces.MaxBy(f => f.Face?.Box.Area ?? float.PositiveInfinity);
}

/// <summary>
/// Turns image files into embedded faces with a <see cref="FaceRecognizer"/>: every face, or only the largest, of
/// photos; or aligned chips as they are. A file that cannot be read is a result with its error, never an exception,
/// so a batch goes on. Thread-safe.
/// </summary>
public static class PhotoEmbedding
{
    /// <summary>Embeds the faces of one file.</summary>
    /// <param name="recognizer">The detector and embedder.</param>
    /// <param name="path">The image file.</param>
    /// <param name="input">Detect faces in photos, or read the file as one aligned chip.</param>
    /// <param name="largestOnly">With <see cref="FaceInput.Detect"/>, embed only the largest face.</param>
    public static PhotoFaces Embed(FaceRecognizer recognizer, string path, FaceInput input, bool largestOnly)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        RgbImage image;
        try
        {
            image = ImageLoader.Load(path);
        }
        catch (ImageLoadException e)   // every load failure, its message naming the file
        {
            return new PhotoFaces(path, PhotoOutcome.Failed, [], e.Message);
        }

        if (input == FaceInput.Aligned)
        {
            if (Embedding.AlignedChips.SizeError(path, image, recognizer.Model) is { } wrongSize)
                return new PhotoFaces(path, PhotoOutcome.Failed, [], wrongSize);
            return new PhotoFaces(path, PhotoOutcome.Embedded, [new PhotoFace(0, null, image, recognizer.EmbedAligned([image])[0])], null);
        }

        var detected = recognizer.Detect(image);
        if (detected.Count == 0) return new PhotoFaces(path, PhotoOutcome.NoFace, [], null);
        var indices = largestOnly ? [FaceSelection.PickLargest(detected)] : Enumerable.Range(0, detected.Count).ToArray();
        var chips = indices.Select(i => recognizer.Align(image, detected[i])).ToList();
        var vectors = recognizer.EmbedAligned(chips);
        var faces = indices.Select((i, k) => new PhotoFace(i, detected[i], chips[k], vectors[k])).ToList();
        return new PhotoFaces(path, PhotoOutcome.Embedded, faces, null);
    }

    /// <summary>
    /// Embeds many files, <paramref name="workers"/> at a time; results come back in the order of
    /// <paramref name="paths"/>. <paramref name="onEach"/> is called once per file as it finishes, from worker threads.
    /// </summary>
    public static IReadOnlyList<PhotoFaces> EmbedMany(FaceRecognizer recognizer, IReadOnlyList<string> paths, FaceInput input,
        bool largestOnly, int workers, Action<PhotoFaces>? onEach = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        var results = new PhotoFaces[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancel }, i =>
        {
            results[i] = Embed(recognizer, paths[i], input, largestOnly);
            onEach?.Invoke(results[i]);
        });
        return results;
    }
}
