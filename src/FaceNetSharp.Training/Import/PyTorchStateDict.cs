using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;

namespace FaceNetSharp.Training.Import;

/// <summary>One tensor of a state dict: its shape, its values in row-major order converted to float, and the
/// storage type it was saved with (e.g. "FloatStorage"; integer tensors such as BatchNorm's num_batches_tracked
/// come back as floats too).</summary>
public sealed record StateTensor(long[] Shape, float[] Data, string StorageType);

/// <summary>
/// Reads PyTorch state dicts (<c>torch.save(model.state_dict(), path)</c>) WITHOUT running pickle code, in both
/// formats: the legacy non-zip format (PyTorch before 1.6, and what facenet-pytorch's weight files use) and the zip
/// format (1.6 and later).
/// </summary>
/// <remarks>
/// Legacy layout (torch/serialization.py <c>_legacy_save</c>): five things back to back: a pickled magic number
/// (0x1950a86a20f9469cfc6c), a pickled protocol version (1001), a pickled dict of system info (endianness, type
/// sizes), the pickled object whose storages are persistent ids
/// <c>('storage', torch.FloatStorage, key, location, numel, view_metadata)</c>, a pickled list of storage keys, and
/// then for each key in that order: numel as little-endian int64 followed by the raw little-endian elements.
/// Zip layout: <c>PREFIX/data.pkl</c> is the pickled object with persistent ids
/// <c>('storage', torch.FloatStorage, key, location, numel)</c> and <c>PREFIX/data/KEY</c> holds each storage's raw
/// bytes. The pickles go through <see cref="RestrictedUnpickler"/>, which accepts only the globals a state dict uses
/// and refuses anything else with <see cref="UnsafePickleException"/>.
/// </remarks>
public static class PyTorchStateDict
{
    // torch/serialization.py: MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, PROTOCOL_VERSION = 1001.
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long LegacyProtocolVersion = 1001;

    /// <summary>Reads a state dict file; keys in file order.</summary>
    /// <exception cref="UnsafePickleException">The file holds something other than a state dict, or is malformed.</exception>
    public static IReadOnlyDictionary<string, StateTensor> Load(string path) => Load(File.ReadAllBytes(path), path);

    /// <summary>
    /// As <see cref="Load(byte[], string)"/>, for front ends: a refused file is an <see cref="InvalidDataException"/>
    /// (unusable input: the CLI answers it with one line naming the file, exit code 2).
    /// </summary>
    internal static IReadOnlyDictionary<string, StateTensor> LoadInput(byte[] bytes, string source)
    {
        try
        {
            return Load(bytes, source);
        }
        catch (UnsafePickleException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>Reads a state dict from bytes; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="UnsafePickleException">The file holds something other than a state dict, or is malformed.</exception>
    public static IReadOnlyDictionary<string, StateTensor> Load(byte[] bytes, string source)
    {
        try
        {
            return LoadAny(bytes, source);
        }
        catch (UnsafePickleException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or OverflowException or ArgumentException or IndexOutOfRangeException
            or InvalidCastException or OutOfMemoryException)
        {
            // garbage that gets past the format checks (a broken zip directory, a size field of 2^62): still one error naming the file
            throw new UnsafePickleException($"{source}: not a readable PyTorch state dict ({e.Message})", e);
        }
    }

    private static IReadOnlyDictionary<string, StateTensor> LoadAny(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new UnsafePickleException($"{source}: the file is empty");
        if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
            return LoadZip(bytes, source);
        if (bytes.Length >= 262 && bytes.AsSpan(257, 5).SequenceEqual("ustar"u8))
            throw new UnsafePickleException($"{source}: a tar archive (PyTorch before 0.4's format) is not supported");
        if (bytes.Length >= 2 && bytes[0] == 0x80)
            return LoadLegacy(bytes, source);
        throw new UnsafePickleException($"{source}: neither a PyTorch zip archive nor a legacy torch.save pickle");
    }

    private static IReadOnlyDictionary<string, StateTensor> LoadLegacy(byte[] bytes, string source)
    {
        var header = new RestrictedUnpickler(bytes, source, _ => throw new UnsafePickleException($"{source}: persistent id in the header"));
        if (header.Load() is not BigInteger magic || magic != LegacyMagic)
            throw new UnsafePickleException($"{source}: not a torch.save file (wrong magic number)");
        var pv = new RestrictedUnpickler(bytes, source, _ => throw new UnsafePickleException($"{source}: persistent id in the header"), header.Position);
        if (pv.Load() is not long protocol || protocol != LegacyProtocolVersion)
            throw new UnsafePickleException($"{source}: no torch.save protocol version {LegacyProtocolVersion} after the magic number");
        var sys = new RestrictedUnpickler(bytes, source, _ => throw new UnsafePickleException($"{source}: persistent id in sys info"), pv.Position);
        if (sys.Load() is PyDict info && info.Items.FirstOrDefault(kv => (kv.Key as string) == "little_endian").Value is false)
            throw new UnsafePickleException($"{source}: saved on a big-endian machine; not supported");

        var storages = new Dictionary<string, (string Type, long Numel)>(StringComparer.Ordinal);
        var main = new RestrictedUnpickler(bytes, source, pid =>
        {
            var t = pid as object?[];
            if (t is not { Length: 6 } || t[0] as string != "storage" || t[1] is not PyGlobal g || t[2] is not string key || t[4] is not long numel)
                throw new UnsafePickleException($"{source}: unexpected persistent id (not a legacy storage reference)");
            storages.TryAdd(key, (g.Name, numel));
            // view_metadata (view_key, offset, view_size): a slice of the root storage 'key'.
            if (t[5] is object?[] { Length: 3 } view && view[1] is long offset && view[2] is long viewSize)
                return new StorageView(key, offset, viewSize, g.Name);
            if (t[5] is not null) throw new UnsafePickleException($"{source}: malformed storage view metadata");
            return new StorageView(key, 0, numel, g.Name);
        }, sys.Position);
        var root = main.Load();
        var keysReader = new RestrictedUnpickler(bytes, source, _ => throw new UnsafePickleException($"{source}: persistent id in the key list"), main.Position);
        if (keysReader.Load() is not List<object?> keys || keys.Any(k => k is not string))
            throw new UnsafePickleException($"{source}: no list of storage keys after the pickled object");

        var raw = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        int pos = keysReader.Position;
        foreach (string key in keys.Cast<string>())
        {
            if (!storages.TryGetValue(key, out var st))
                throw new UnsafePickleException($"{source}: storage '{key}' is listed but never referenced");
            if (pos + 8 > bytes.Length) throw new UnsafePickleException($"{source}: truncated before storage '{key}'");
            long numel = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(pos, 8));
            pos += 8;
            if (numel != st.Numel) throw new UnsafePickleException($"{source}: storage '{key}' has {numel} elements on disk, {st.Numel} in the pickle");
            long size = checked(numel * ElementSize(st.Type, source));
            if (pos + size > bytes.Length) throw new UnsafePickleException($"{source}: storage '{key}' runs past the end of the file");
            raw[key] = bytes.AsSpan(pos, (int)size).ToArray();
            pos += (int)size;
        }
        if (pos != bytes.Length)
            throw new UnsafePickleException($"{source}: {bytes.Length - pos} bytes follow the last storage (not a single torch.save file)");
        return Collect(root, source, view =>
        {
            if (!raw.TryGetValue(view.Key, out var b)) throw new UnsafePickleException($"{source}: storage '{view.Key}' has no data");
            return (b, view.Offset, view.Numel);
        });
    }

    private static IReadOnlyDictionary<string, StateTensor> LoadZip(byte[] bytes, string source)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read);
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw new UnsafePickleException($"{source}: zip archive without PREFIX/data.pkl (not a torch.save file)");
        string prefix = pkl.FullName[..^"data.pkl".Length];
        var byteorder = zip.GetEntry(prefix + "byteorder");
        if (byteorder is not null)
        {
            using var r = new StreamReader(byteorder.Open());
            if (r.ReadToEnd().Trim() != "little") throw new UnsafePickleException($"{source}: big-endian storages are not supported");
        }
        byte[] ReadEntry(ZipArchiveEntry e)
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        }
        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var unpickler = new RestrictedUnpickler(ReadEntry(pkl), source + ":" + pkl.FullName, pid =>
        {
            var t = pid as object?[];
            if (t is not { Length: 5 } || t[0] as string != "storage" || t[1] is not PyGlobal g || t[2] is not string key || t[4] is not long numel)
                throw new UnsafePickleException($"{source}: unexpected persistent id (not a storage reference)");
            if (!storages.ContainsKey(key))
            {
                var entry = zip.GetEntry(prefix + "data/" + key) ?? throw new UnsafePickleException($"{source}: missing {prefix}data/{key}");
                var b = ReadEntry(entry);
                if (b.LongLength != numel * ElementSize(g.Name, source))
                    throw new UnsafePickleException($"{source}: {prefix}data/{key} holds {b.Length} bytes, not {numel} x {g.Name}");
                storages[key] = b;
            }
            return new StorageView(key, 0, numel, g.Name);
        });
        var root = unpickler.Load();
        return Collect(root, source, view => (storages[view.Key], view.Offset, view.Numel));
    }

    /// <summary>Elements [Offset, Offset + Numel) of the storage saved under Key.</summary>
    private sealed record StorageView(string Key, long Offset, long Numel, string Type);

    private static Dictionary<string, StateTensor> Collect(object? root, string source, Func<StorageView, (byte[] Bytes, long Offset, long Numel)> data)
    {
        if (root is not PyDict dict)
            throw new UnsafePickleException($"{source}: the saved object is not a dict of tensors (a state dict)");
        var result = new Dictionary<string, StateTensor>(StringComparer.Ordinal);
        foreach (var (k, v) in dict.Items)
        {
            if (k is not string name) throw new UnsafePickleException($"{source}: a state-dict key is not a string");
            if (v is not PyTensorRef t || t.Storage is not StorageView view)
                throw new UnsafePickleException($"{source}: the value of '{name}' is not a tensor");
            var (bytes, viewOffset, viewNumel) = data(view);
            result[name] = new StateTensor(t.Size, Gather(bytes, view.Type, viewOffset, viewNumel, t, name, source), view.Type);
        }
        return result;
    }

    /// <summary>Copies a strided view out of a storage into a row-major float array.</summary>
    private static float[] Gather(byte[] bytes, string type, long viewOffset, long viewNumel, PyTensorRef t, string name, string source)
    {
        if (t.Size.Length != t.Stride.Length) throw new UnsafePickleException($"{source}: '{name}' has {t.Size.Length} sizes and {t.Stride.Length} strides");
        long count = 1;
        long maxIndex = t.StorageOffset;
        foreach (var (s, st) in t.Size.Zip(t.Stride))
        {
            if (s < 0 || st < 0) throw new UnsafePickleException($"{source}: '{name}' has a negative size or stride");
            count = checked(count * s);
            if (s > 0) maxIndex += (s - 1) * st;
        }
        if (count > 0 && (t.StorageOffset < 0 || maxIndex >= viewNumel))
            throw new UnsafePickleException($"{source}: '{name}' reaches element {maxIndex} of a {viewNumel}-element storage");
        var result = new float[count];
        int rank = t.Size.Length;
        var index = new long[rank];
        int elem = ElementSize(type, source);
        for (long i = 0; i < count; i++)
        {
            long off = t.StorageOffset;
            for (int d = 0; d < rank; d++) off += index[d] * t.Stride[d];
            result[i] = Element(bytes, type, checked((int)((viewOffset + off) * elem)));
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < t.Size[d]) break;
                index[d] = 0;
            }
        }
        return result;
    }

    private static int ElementSize(string type, string source) => type switch
    {
        "FloatStorage" or "IntStorage" => 4,
        "DoubleStorage" or "LongStorage" => 8,
        "HalfStorage" or "BFloat16Storage" or "ShortStorage" => 2,
        "CharStorage" or "ByteStorage" or "BoolStorage" => 1,
        _ => throw new UnsafePickleException($"{source}: unsupported storage type {type}"),
    };

    private static float Element(byte[] b, string type, int at) => type switch
    {
        "FloatStorage" => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(at)),
        "DoubleStorage" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(at)),
        "HalfStorage" => (float)BinaryPrimitives.ReadHalfLittleEndian(b.AsSpan(at)),
        "BFloat16Storage" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)) << 16),
        "LongStorage" => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(at)),
        "IntStorage" => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at)),
        "ShortStorage" => BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(at)),
        "CharStorage" => (sbyte)b[at],
        "ByteStorage" or "BoolStorage" => b[at],
        _ => throw new InvalidOperationException(type),
    };
}
