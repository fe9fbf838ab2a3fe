using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FaceNetSharp.IO;

namespace FaceNetSharp.Embedding;

/// <summary>One row of an embedding file: the image, its class (the folder it sits in; "" for none) and its vector.</summary>
public sealed record LabelledEmbedding(string File, string Label, float[] Vector);

/// <summary>The file formats <see cref="EmbeddingFile"/> writes, chosen by extension.</summary>
public enum EmbeddingFileFormat
{
    /// <summary>
    /// <c>.npy</c>: a NumPy v1.0 array, little-endian float32 (<c>'&lt;f4'</c>), shape (rows, dimensions), C order; the
    /// rows' labels and files go to <c>NAME.labels.txt</c> beside it, one <c>label&lt;TAB&gt;file</c> line per row.
    /// </summary>
    Npy,
    /// <summary><c>.csv</c>: header <c>file,label,e0,…,e{d-1}</c>, one row per vector, invariant culture, RFC 4180 quoting.</summary>
    Csv,
    /// <summary><c>.jsonl</c>: one <c>{"file":…,"label":…,"embedding":[…]}</c> object per line.</summary>
    Jsonl,
}

/// <summary>Writes (and reads back .npy) embedding files. Every file is replaced atomically: written beside, then moved.</summary>
public static class EmbeddingFile
{
    /// <summary>The format for a path by its extension (.npy, .csv, .jsonl or .ndjson).</summary>
    /// <exception cref="ArgumentException">Another extension.</exception>
    public static EmbeddingFileFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".npy" => EmbeddingFileFormat.Npy,
        ".csv" => EmbeddingFileFormat.Csv,
        ".jsonl" or ".ndjson" => EmbeddingFileFormat.Jsonl,
        var e => throw new ArgumentException($"{path}: unknown output format '{e}'; use .npy (with .labels.txt beside it), .csv or .jsonl"),
    };

    /// <summary>The labels file written beside an .npy file: <c>dir/NAME.labels.txt</c> for <c>dir/NAME.npy</c>.</summary>
    public static string LabelsPathOf(string npyPath) => Path.ChangeExtension(npyPath, ".labels.txt");

    /// <summary>
    /// Writes the rows in the format of <paramref name="path"/>'s extension. All vectors must have the same length.
    /// Returns the files written.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown extension, or vectors of different lengths.</exception>
    public static IReadOnlyList<string> Write(string path, IReadOnlyList<LabelledEmbedding> rows)
    {
        var format = FormatOf(path);
        int dims = rows.Count > 0 ? rows[0].Vector.Length : 0;
        foreach (var r in rows)
            if (r.Vector.Length != dims) throw new ArgumentException($"{r.File}: vector has {r.Vector.Length} values, the first has {dims}");
        switch (format)
        {
            case EmbeddingFileFormat.Npy:
                var labels = LabelsPathOf(path);
                AtomicFile.Write(path, s => WriteNpy(s, rows, dims));
                AtomicFile.Write(labels, s =>
                {
                    using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true); // AtomicFile flushes the stream after
                    w.NewLine = "\n";
                    foreach (var r in rows) w.WriteLine($"{OneLine(r.Label)}\t{OneLine(r.File)}");
                });
                return [path, labels];
            case EmbeddingFileFormat.Csv:
                AtomicFile.Write(path, s => WriteCsv(s, rows, dims));
                return [path];
            default:
                AtomicFile.Write(path, s => WriteJsonl(s, rows));
                return [path];
        }
    }

    /// <summary>
    /// The NumPy v1.0 header for a C-order little-endian float32 array of shape (rows, columns): magic, version,
    /// header length, then the dict padded with spaces and a newline so that the data starts at a multiple of 64 bytes
    /// (the NumPy format specification, numpy/lib/format.py).
    /// </summary>
    internal static byte[] NpyHeader(int rows, int columns)
    {
        var dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        const int Preamble = 10; // 6 magic + 2 version + 2 header length
        int total = (Preamble + dict.Length + 1 + 63) / 64 * 64;
        var header = new byte[total];
        header[0] = 0x93;
        "NUMPY"u8.CopyTo(header.AsSpan(1));
        header[6] = 1; // major version
        header[7] = 0; // minor version
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(total - Preamble));
        int n = Encoding.ASCII.GetBytes(dict, header.AsSpan(Preamble));
        header.AsSpan(Preamble + n, total - Preamble - n - 1).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    /// <summary>Reads a 2-D little-endian float32 C-order .npy file (as <see cref="Write"/> makes).</summary>
    /// <exception cref="InvalidDataException">Not such a file.</exception>
    public static (int Rows, int Columns, float[] Data) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY" || bytes[6] != 1)
            throw new InvalidDataException($"{path}: not a NumPy v1 .npy file");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        var dict = Encoding.ASCII.GetString(bytes, 10, headerLength);
        if (!dict.Contains("'descr': '<f4'") || !dict.Contains("'fortran_order': False"))
            throw new InvalidDataException($"{path}: expected little-endian float32 in C order, header {dict.Trim()}");
        int open = dict.IndexOf("'shape': (", StringComparison.Ordinal) + 10, close = dict.IndexOf(')', open);
        var dims = dict[open..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (dims.Length != 2) throw new InvalidDataException($"{path}: expected a 2-D array, shape ({dict[open..close]})");
        int offset = 10 + headerLength;
        long expected = (long)dims[0] * dims[1] * 4;
        if (bytes.Length - offset != expected)
            throw new InvalidDataException($"{path}: {bytes.Length - offset} data bytes for shape ({dims[0]}, {dims[1]}), expected {expected}");
        var data = new float[dims[0] * dims[1]];
        for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + 4 * i));
        return (dims[0], dims[1], data);
    }

    private static void WriteNpy(Stream s, IReadOnlyList<LabelledEmbedding> rows, int dims)
    {
        s.Write(NpyHeader(rows.Count, dims));
        var buffer = new byte[dims * 4];
        foreach (var r in rows)
        {
            for (int i = 0; i < dims; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), r.Vector[i]);
            s.Write(buffer);
        }
    }

    private static void WriteCsv(Stream s, IReadOnlyList<LabelledEmbedding> rows, int dims)
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true); // AtomicFile flushes the stream after
        w.NewLine = "\n";
        w.Write("file,label");
        for (int i = 0; i < dims; i++) w.Write(string.Create(CultureInfo.InvariantCulture, $",e{i}"));
        w.WriteLine();
        foreach (var r in rows)
        {
            w.Write(CsvField(r.File));
            w.Write(',');
            w.Write(CsvField(r.Label));
            foreach (var v in r.Vector)
            {
                w.Write(',');
                w.Write(v.ToString("R", CultureInfo.InvariantCulture));
            }
            w.WriteLine();
        }
    }

    private static void WriteJsonl(Stream s, IReadOnlyList<LabelledEmbedding> rows)
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true); // AtomicFile flushes the stream after
        w.NewLine = "\n";
        foreach (var r in rows)
            w.WriteLine(JsonSerializer.Serialize(new { file = r.File, label = r.Label, embedding = r.Vector }));
    }

    internal static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;

    private static string OneLine(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
