using System.Text.Json;

namespace FaceNetSharp.Recognition;

/// <summary>
/// Writes a gallery export, the JSON that <see cref="FaceGallery.Export"/> and the cluster gallery both write and
/// <see cref="FaceGallery.Import"/> reads: a header (format, schema version, model, dimensions), then each person
/// with their faces. Faces come in person order (all faces of one person together), as the exporting queries sort them.
/// </summary>
internal sealed class GalleryExportWriter : IDisposable
{
    /// <summary>The export's <c>format</c> field.</summary>
    public const string Format = "facenetsharp-gallery";

    private readonly Utf8JsonWriter _w;
    private long _person = -1;

    public GalleryExportWriter(Stream stream, string modelId, int dimensions)
    {
        _w = new Utf8JsonWriter(stream);
        _w.WriteStartObject();
        _w.WriteString("format", Format);
        _w.WriteNumber("schemaVersion", FaceGallery.SchemaVersion);
        _w.WriteString("modelId", modelId);
        _w.WriteNumber("dimensions", dimensions);
        _w.WriteStartArray("people");
    }

    /// <summary>People written so far.</summary>
    public int People { get; private set; }

    /// <summary>Writes one face; a new <paramref name="personId"/> closes the previous person and opens this one.</summary>
    public void Face(long personId, string name, string? source, string addedAt, ReadOnlySpan<float> vector)
    {
        if (personId != _person)
        {
            if (_person != -1) { _w.WriteEndArray(); _w.WriteEndObject(); }
            _person = personId;
            People++;
            _w.WriteStartObject();
            _w.WriteString("name", name);
            _w.WriteStartArray("faces");
        }
        _w.WriteStartObject();
        if (source is not null) _w.WriteString("source", source);
        _w.WriteString("addedAt", addedAt);
        _w.WriteStartArray("vector");
        foreach (var x in vector) _w.WriteNumberValue(x);
        _w.WriteEndArray();
        _w.WriteEndObject();
    }

    /// <summary>Closes the last person and the document. Not called on failure: the atomic write then discards the file.</summary>
    public void Finish()
    {
        if (_person != -1) { _w.WriteEndArray(); _w.WriteEndObject(); }
        _w.WriteEndArray();
        _w.WriteEndObject();
        _w.Flush();
    }

    public void Dispose() => _w.Dispose();
}

/// <summary>One face read from a gallery export: its unit vector (normalised again on reading), source and time added.</summary>
internal readonly record struct ExportedFace(float[] UnitVector, string? Source, string AddedAt);

/// <summary>
/// Reads a gallery export (<see cref="GalleryExportWriter"/>'s JSON, from a SQLite or a cluster gallery) for a gallery
/// of one model: the one check of its header and vectors that <see cref="FaceGallery.Import"/> and the cluster's
/// import share.
/// </summary>
internal static class GalleryExportReader
{
    /// <summary>Every person with at least one face, in file order, each face's vector L2-normalised.</summary>
    /// <exception cref="EmbeddingModelMismatchException">The file is from another model id or dimension count.</exception>
    /// <exception cref="InvalidDataException">The file is not a gallery export, is of a newer schema, or a vector in it is malformed.</exception>
    public static List<(string Name, List<ExportedFace> Faces)> Read(string jsonPath, string modelId, int dimensions)
    {
        var file = RecognitionFiles.Read(jsonPath, RecognitionJsonContext.Default.GalleryFileDto);
        if (file.Format != GalleryExportWriter.Format)
            throw new InvalidDataException($"{jsonPath}: format is '{file.Format}', expected '{GalleryExportWriter.Format}'");
        if (file.SchemaVersion > FaceGallery.SchemaVersion)
            throw new InvalidDataException($"{jsonPath} has gallery schema version {file.SchemaVersion}; this code reads up to {FaceGallery.SchemaVersion}");
        if (file.ModelId != modelId || file.Dimensions != dimensions)
            throw new EmbeddingModelMismatchException(jsonPath, file.ModelId ?? "(none)", file.Dimensions, modelId, dimensions);

        var now = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var people = new List<(string, List<ExportedFace>)>();
        foreach (var person in file.People ?? [])
        {
            if (string.IsNullOrWhiteSpace(person.Name)) throw new InvalidDataException($"{jsonPath}: a person has no name");
            var faces = new List<ExportedFace>();
            foreach (var face in person.Faces ?? [])
            {
                float[] unit;
                try
                {
                    unit = VectorMath.Normalized(face.Vector ?? [], dimensions, $"face {faces.Count} of '{person.Name}'");
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"{jsonPath}: {e.Message}", e);
                }
                faces.Add(new ExportedFace(unit, face.Source, face.AddedAt ?? now));
            }
            if (faces.Count > 0) people.Add((person.Name, faces));
        }
        return people;
    }
}
