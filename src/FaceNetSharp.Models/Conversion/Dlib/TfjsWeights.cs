using System.Buffers.Binary;
using System.Text.Json;

namespace FaceNetSharp.Models.Conversion.Dlib;

/// <summary>One named weight tensor read from a tfjs weights manifest, as float32 in its tfjs layout (row-major).</summary>
internal sealed record TfjsTensor(string Name, int[] Shape, float[] Data);

/// <summary>
/// Reads TensorFlow.js "weights manifest" files: a JSON array of groups, each with <c>paths</c> (binary shards)
/// and <c>weights</c> (<c>name</c>, <c>shape</c>, <c>dtype</c>, optional <c>quantization</c> {<c>dtype</c>,
/// <c>scale</c>, <c>min</c>}). The weights' bytes follow one another, in manifest order, through the shards of
/// all groups concatenated, little-endian.
/// Quantised values are dequantised as tfjs does: <c>w = q * scale + min</c> (uint8/uint16; a scale of 0 makes
/// every value <c>min</c>), or read as IEEE half floats (float16).
/// </summary>
internal static class TfjsWeights
{
    /// <summary>Shard file names, in the order their bytes must be concatenated for <see cref="Read"/>.</summary>
    public static IReadOnlyList<string> ShardPaths(ReadOnlySpan<byte> manifestJson)
    {
        using var doc = ParseManifest(manifestJson);
        var paths = new List<string>();
        foreach (var group in doc.RootElement.EnumerateArray())
            if (group.TryGetProperty("paths", out var p))
                foreach (var path in p.EnumerateArray())
                    paths.Add(path.GetString() ?? throw Bad("a shard path is null"));
        return paths;
    }

    /// <summary>
    /// Decodes every weight named in <paramref name="manifestJson"/> from <paramref name="weightData"/>
    /// (all shards concatenated in manifest order). Throws <see cref="InvalidDataException"/> when the manifest
    /// is malformed, names an unsupported dtype, or the data length does not match the manifest exactly.
    /// </summary>
    public static Dictionary<string, TfjsTensor> Read(ReadOnlySpan<byte> manifestJson, ReadOnlySpan<byte> weightData)
    {
        using var doc = ParseManifest(manifestJson);
        try
        {
            return ReadGroups(doc.RootElement, weightData);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // A missing property or a value of the wrong JSON kind.
            throw new InvalidDataException("tfjs weights manifest: malformed entry: " + e.Message, e);
        }
    }

    private static Dictionary<string, TfjsTensor> ReadGroups(JsonElement root, ReadOnlySpan<byte> weightData)
    {
        var result = new Dictionary<string, TfjsTensor>(StringComparer.Ordinal);
        int offset = 0;
        foreach (var group in root.EnumerateArray())
        {
            if (!group.TryGetProperty("weights", out var weights) || weights.ValueKind != JsonValueKind.Array)
                throw Bad("a group has no 'weights' array");
            foreach (var w in weights.EnumerateArray())
            {
                var name = w.GetProperty("name").GetString() ?? throw Bad("a weight has a null name");
                var shape = w.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                long count = 1;
                foreach (var d in shape) count *= d;
                var dtype = w.GetProperty("dtype").GetString();

                float[] data;
                int bytes;
                if (w.TryGetProperty("quantization", out var q) && q.ValueKind == JsonValueKind.Object)
                {
                    if (dtype != "float32")
                        throw Bad($"weight '{name}': quantised dtype '{dtype}' is not supported (only float32)");
                    var qtype = q.GetProperty("dtype").GetString();
                    (data, bytes) = qtype switch
                    {
                        "uint8" => Dequantize(name, weightData, offset, count, 1, q),
                        "uint16" => Dequantize(name, weightData, offset, count, 2, q),
                        "float16" => ReadHalf(name, weightData, offset, count),
                        _ => throw Bad($"weight '{name}': quantization dtype '{qtype}' is not supported"),
                    };
                }
                else
                {
                    (data, bytes) = dtype switch
                    {
                        "float32" => ReadFloat32(name, weightData, offset, count),
                        "int32" => ReadInt32(name, weightData, offset, count),
                        _ => throw Bad($"weight '{name}': dtype '{dtype}' is not supported"),
                    };
                }
                offset += bytes;
                if (!result.TryAdd(name, new TfjsTensor(name, shape, data)))
                    throw Bad($"weight '{name}' appears twice");
            }
        }
        if (offset != weightData.Length)
            throw Bad($"the manifest describes {offset} bytes of weights but the data holds {weightData.Length}");
        return result;
    }

    private static (float[], int) Dequantize(string name, ReadOnlySpan<byte> src, int offset, long count, int width, JsonElement q)
    {
        // tfjs evaluates q * scale + min in double precision and stores the result as float32.
        double scale = q.GetProperty("scale").GetDouble();
        double min = q.GetProperty("min").GetDouble();
        var span = Slice(name, src, offset, count, width);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
        {
            int v = width == 1 ? span[i] : BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(2 * i, 2));
            data[i] = (float)(v * scale + min);
        }
        return (data, span.Length);
    }

    private static (float[], int) ReadHalf(string name, ReadOnlySpan<byte> src, int offset, long count)
    {
        var span = Slice(name, src, offset, count, 2);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(span.Slice(2 * i, 2));
        return (data, span.Length);
    }

    private static (float[], int) ReadFloat32(string name, ReadOnlySpan<byte> src, int offset, long count)
    {
        var span = Slice(name, src, offset, count, 4);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice(4 * i, 4));
        return (data, span.Length);
    }

    private static (float[], int) ReadInt32(string name, ReadOnlySpan<byte> src, int offset, long count)
    {
        var span = Slice(name, src, offset, count, 4);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(4 * i, 4));
        return (data, span.Length);
    }

    private static ReadOnlySpan<byte> Slice(string name, ReadOnlySpan<byte> src, int offset, long count, int width)
    {
        long bytes = count * width;
        if (offset + bytes > src.Length)
            throw Bad($"weight '{name}' needs bytes {offset}..{offset + bytes} but the data holds only {src.Length}");
        return src.Slice(offset, (int)bytes);
    }

    private static JsonDocument ParseManifest(ReadOnlySpan<byte> manifestJson)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(manifestJson);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("tfjs weights manifest is not valid JSON: " + e.Message, e);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            doc.Dispose();
            throw Bad("the root is not an array of weight groups");
        }
        return doc;
    }

    private static InvalidDataException Bad(string what) => new("tfjs weights manifest: " + what);
}
