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
