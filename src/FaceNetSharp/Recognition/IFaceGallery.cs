namespace FaceNetSharp.Recognition;

/// <summary>
/// The operations of a gallery of enrolled people, whether one SQLite file (<see cref="FaceGallery"/>) or a cluster
/// (FaceNetSharp.Cluster's ClusterGallery): enrol, identify top-k, list, remove, export and import.
/// </summary>
/// <remarks>
/// A gallery whose store is remote throws <see cref="GalleryUnavailableException"/> from any member when the store does
/// not answer within its time-out.
/// </remarks>
public interface IFaceGallery : IDisposable
{
    /// <summary>Where the gallery is, for messages: a file path, or a cluster's database.</summary>
    string Location { get; }

    /// <summary>The id of the embedding model the gallery's vectors come from.</summary>
    string ModelId { get; }

    /// <summary>The length of every vector in the gallery.</summary>
    int Dimensions { get; }

    /// <summary>The metric identify reports distances in.</summary>
    EmbeddingMetric Metric { get; }

    /// <summary>How many faces identify searches now.</summary>
    int FaceCount { get; }

    /// <summary>How many people identify searches now (people with a searchable face): the N of a 1:N search.</summary>
    int PeopleCount { get; }

    /// <summary>Adds faces to a person (created when new), all or none; see <see cref="FaceGallery.AddFaces"/>.</summary>
    int AddFaces(string person, IEnumerable<(float[] vector, string? source)> faces);

    /// <summary>The nearest people, one entry per person, nearest first; see <see cref="FaceGallery.Identify"/>.</summary>
    IReadOnlyList<GalleryMatch> Identify(ReadOnlySpan<float> query, int top, float threshold);

    /// <summary>How many faces <paramref name="person"/> has in the gallery now (0 for an unknown name).</summary>
    int FaceCountOf(string person);

    /// <summary>The people and their numbers of faces, by name (ordinal).</summary>
    IReadOnlyList<GalleryPerson> List();

    /// <summary>Removes a person and their faces; true when the person was there.</summary>
    bool Remove(string person);

    /// <summary>Writes the whole gallery as JSON (the same format for every kind of gallery), atomically.</summary>
    void Export(string jsonPath);

    /// <summary>Adds every face of an exported gallery; returns how many.</summary>
    int Import(string jsonPath);

    // The asynchronous forms, for servers: a gallery whose store is remote (a cluster) answers them without holding a
    // thread while it waits; a local one answers at once, by the synchronous member.

    /// <summary><see cref="PeopleCount"/>, asynchronously.</summary>
    Task<int> PeopleCountAsync(CancellationToken cancel = default) => Task.FromResult(PeopleCount);

    /// <summary><see cref="Identify"/>, asynchronously.</summary>
    Task<IReadOnlyList<GalleryMatch>> IdentifyAsync(float[] query, int top, float threshold, CancellationToken cancel = default) =>
        Task.FromResult(Identify(query, top, threshold));

    /// <summary><see cref="AddFaces"/>, asynchronously.</summary>
    Task<int> AddFacesAsync(string person, IEnumerable<(float[] vector, string? source)> faces, CancellationToken cancel = default) =>
        Task.FromResult(AddFaces(person, faces));

    /// <summary><see cref="FaceCountOf"/>, asynchronously.</summary>
    Task<int> FaceCountOfAsync(string person, CancellationToken cancel = default) => Task.FromResult(FaceCountOf(person));

    /// <summary><see cref="List"/>, asynchronously.</summary>
    Task<IReadOnlyList<GalleryPerson>> ListAsync(CancellationToken cancel = default) => Task.FromResult(List());

    /// <summary><see cref="Remove"/>, asynchronously.</summary>
    Task<bool> RemoveAsync(string person, CancellationToken cancel = default) => Task.FromResult(Remove(person));
}
