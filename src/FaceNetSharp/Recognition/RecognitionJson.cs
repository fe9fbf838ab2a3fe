using System.Text.Json;
using System.Text.Json.Serialization;

namespace FaceNetSharp.Recognition;

/// <summary>The gallery export file (<see cref="FaceGallery.Export"/>): camelCase JSON.</summary>
internal sealed record GalleryFileDto(
    string? Format, int SchemaVersion, string? ModelId, int Dimensions, List<GalleryPersonDto>? People);

internal sealed record GalleryPersonDto(string? Name, List<GalleryFaceDto>? Faces);

internal sealed record GalleryFaceDto(string? Source, string? AddedAt, float[]? Vector);

/// <summary>A saved classifier (<see cref="EmbeddingClassifiers.Load(string)"/>): camelCase JSON.</summary>
internal sealed record ClassifierFileDto(
    string? Format, int FormatVersion, string? Method, string? ModelId, int Dimensions, string? Metric,
    float Threshold, int? K, List<ClassifierClassDto>? Classes, string? SvmModel = null);

/// <summary>One class of a saved classifier: its training vectors (k-NN) or its single centre (nearest centre).</summary>
internal sealed record ClassifierClassDto(string? Name, List<float[]>? Vectors);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GalleryFileDto))]
[JsonSerializable(typeof(ClassifierFileDto))]
internal sealed partial class RecognitionJsonContext : JsonSerializerContext;

/// <summary>Atomic writes and checked reads of the recognition JSON files.</summary>
internal static class RecognitionFiles
{
    /// <summary>Reads and deserialises a JSON file; a malformed file is an <see cref="InvalidDataException"/> naming it.</summary>
    public static T Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        try
        {
            if (IO.InputFile.IsEmptyOrSpecial(path)) // a FIFO would block the read
                throw new InvalidDataException($"{path}: {IO.InputFile.EmptyOrSpecialProblem}");
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, typeInfo)
                   ?? throw new InvalidDataException($"{path}: the file holds JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON of the expected shape: {e.Message}", e);
        }
    }
}
