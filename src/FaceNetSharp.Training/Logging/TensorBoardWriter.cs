using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;

namespace FaceNetSharp.Training.Logging;

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.TIME.HOST</c>) with scalar summaries, in TensorFlow's
/// TFRecord framing, without TensorFlow. Not thread-safe; every record is flushed when written.
/// </summary>
/// <remarks>
/// A TFRecord is <c>uint64 length, uint32 masked_crc32c(length bytes), data, uint32 masked_crc32c(data)</c>, all
/// little-endian (tensorflow/core/lib/io/record_writer.cc). The data is a serialised <c>tensorflow.Event</c>
/// (event.proto): <c>wall_time</c> = 1 (double, seconds since the Unix epoch), <c>step</c> = 2 (int64),
/// <c>file_version</c> = 3 (string, "brain.Event:2" in the first record), <c>summary</c> = 5 (Summary). A
/// <c>Summary</c> (summary.proto) holds repeated <c>value</c> = 1, each <c>Value{tag = 1 (string), simple_value = 2 (float)}</c>.
/// These few fields are encoded by hand with Google.Protobuf's <see cref="CodedOutputStream"/>.
/// </remarks>
internal sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream stream;

    /// <summary>Creates the folder and a new event file in it, and writes the file-version record.</summary>
    public TensorBoardWriter(string logDirectory)
    {
        Directory.CreateDirectory(logDirectory);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        FilePath = Path.Combine(logDirectory, $"events.out.tfevents.{now}.{Environment.MachineName}");
        stream = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
        WriteRecord(EncodeEvent(WallTime(), 0, "brain.Event:2", null));
    }

    /// <summary>The event file.</summary>
    public string FilePath { get; }

    /// <summary>Writes one event with the given scalars (tag, value) at <paramref name="step"/>.</summary>
    public void Scalars(long step, params (string Tag, float Value)[] values) =>
        WriteRecord(EncodeEvent(WallTime(), step, null, values));

    /// <summary>The serialised Event message (exposed for tests).</summary>
    internal static byte[] EncodeEvent(double wallTime, long step, string? fileVersion, (string Tag, float Value)[]? values)
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        o.WriteTag(1, WireFormat.WireType.Fixed64); o.WriteDouble(wallTime);
        o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(step);
        if (fileVersion is not null) { o.WriteTag(3, WireFormat.WireType.LengthDelimited); o.WriteString(fileVersion); }
        if (values is not null)
        {
            var summary = new MemoryStream();
            var so = new CodedOutputStream(summary);
            foreach (var (tag, value) in values)
            {
                var v = new MemoryStream();
                var vo = new CodedOutputStream(v);
                vo.WriteTag(1, WireFormat.WireType.LengthDelimited); vo.WriteString(tag);
                vo.WriteTag(2, WireFormat.WireType.Fixed32); vo.WriteFloat(value);
                vo.Flush();
                so.WriteTag(1, WireFormat.WireType.LengthDelimited); so.WriteBytes(ByteString.CopyFrom(v.ToArray()));
            }
            so.Flush();
            o.WriteTag(5, WireFormat.WireType.LengthDelimited); o.WriteBytes(ByteString.CopyFrom(summary.ToArray()));
        }
        o.Flush();
        return ms.ToArray();
    }

    /// <summary>One TFRecord frame around <paramref name="data"/>.</summary>
    internal static byte[] Frame(ReadOnlySpan<byte> data)
    {
        var record = new byte[8 + 4 + data.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc32C(record.AsSpan(0, 8)));
        data.CopyTo(record.AsSpan(12));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc32C(data));
        return record;
    }

    /// <summary>CRC-32C (Castagnoli), as TFRecord uses; BitOperations.Crc32C uses the CPU's instruction where there is one.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>tensorflow/core/lib/hash/crc32c.h Mask: rotate right by 15 bits and add 0xa282ead8.</summary>
    internal static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    private void WriteRecord(byte[] data)
    {
        stream.Write(Frame(data));
        stream.Flush();
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Closes the event file.</summary>
    public void Dispose() => stream.Dispose();
}
