namespace FaceNetSharp.Recognition;

/// <summary>A person enrolled in a <see cref="FaceGallery"/> and how many face embeddings they have.</summary>
/// <param name="Name">The person's name, as given to <see cref="FaceGallery.AddFaces"/> (case-sensitive).</param>
/// <param name="FaceCount">How many faces the gallery holds for the person (at least 1).</param>
public sealed record GalleryPerson(string Name, int FaceCount);

/// <summary>One candidate answer of <see cref="FaceGallery.Identify"/>: a person and their best face's distance.</summary>
/// <param name="Person">The person's name.</param>
/// <param name="Distance">
/// The distance from the query to the person's closest face, in the gallery's <see cref="EmbeddingMetric"/>
/// (both metrics range over [0, 2] for unit vectors; smaller is more alike).
/// </param>
/// <param name="IsKnown">
/// True when <see cref="Distance"/> is below the threshold given to Identify. When the best match is not known,
/// the answer is "unknown person": the match only says who was closest.
/// </param>
public sealed record GalleryMatch(string Person, float Distance, bool IsKnown);

/// <summary>
/// Thrown when a gallery or classifier file was built for another embedding model (model id or dimensions differ)
/// than the one it is opened with: distances between embeddings of different models mean nothing.
/// </summary>
public sealed class EmbeddingModelMismatchException : Exception
{
    /// <summary>Creates the exception; the message names the file and both models.</summary>
    public EmbeddingModelMismatchException(string file, string storedModelId, int storedDimensions,
        string requestedModelId, int requestedDimensions)
        : base($"{file} was built with model '{storedModelId}' ({storedDimensions} dims) and cannot be used with " +
               $"model '{requestedModelId}' ({requestedDimensions} dims); embeddings of different models are not comparable")
    {
        File = file;
        StoredModelId = storedModelId;
        StoredDimensions = storedDimensions;
        RequestedModelId = requestedModelId;
        RequestedDimensions = requestedDimensions;
    }

    /// <summary>The gallery or classifier file.</summary>
    public string File { get; }

    /// <summary>The model id the file was built with.</summary>
    public string StoredModelId { get; }

    /// <summary>The embedding length the file was built with.</summary>
    public int StoredDimensions { get; }

    /// <summary>The model id the caller asked for.</summary>
    public string RequestedModelId { get; }

    /// <summary>The embedding length the caller asked for.</summary>
    public int RequestedDimensions { get; }
}

/// <summary>
/// A face of a <see cref="FaceGallery"/> file whose stored vector cannot be searched: the file was changed outside
/// the gallery (SQLite's own integrity check does not look inside the vectors). Such faces are left out of
/// <see cref="FaceGallery.Identify"/>; <see cref="FaceGallery.DropDamagedFaces"/> deletes them.
/// </summary>
/// <param name="FaceId">The face's row id in the file.</param>
/// <param name="Person">The person the face belongs to (their name), or a note when the person row is missing.</param>
/// <param name="Problem">What is wrong: a vector of the wrong length, NaN or infinite values, or not of unit length.</param>
public sealed record GalleryFaceProblem(long FaceId, string Person, string Problem);
