using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests.Imaging;

/// <summary>Builders of small image files, written from the format specifications (PNG: ISO/IEC 15948;
/// JPEG: ITU-T T.81; EXIF: CIPA DC-008), so that every odd case can be made inside a test.</summary>
internal static class TestImageFiles
{
    /// <summary>A deterministic image with smooth gradients (JPEG keeps it close).</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var px = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                px[i] = (byte)(x * 255 / Math.Max(1, width - 1));
                px[i + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                px[i + 2] = 96;
            }
        return new RgbImage(width, height, px);
    }

    // ---- PNG ----

    /// <summary>
    /// A PNG with the given IHDR fields and raw (unfiltered) scanlines; each scanline is prefixed with filter type 0.
    /// <paramref name="rows"/> null writes no IDAT at all (header only).
    /// </summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[][]? rows)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType; // 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA
        WriteChunk(ms, "IHDR", ihdr);
        if (rows is not null)
        {
            using var raw = new MemoryStream();
            using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
                foreach (var row in rows)
                {
                    z.WriteByte(0);
                    z.Write(row);
                }
            WriteChunk(ms, "IDAT", raw.ToArray());
        }
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
        s.Write(len);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typeAndData));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        // CRC-32 (polynomial 0xEDB88320 reflected), as PNG specifies.
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    // ---- JPEG ----

    /// <summary>
    /// A baseline JPEG of one flat colour: <paramref name="samples"/> gives each component's stored sample value
    /// (1 component: grey; 4: CMYK). All blocks carry only a DC coefficient (quantiser 1), which decoders reproduce
    /// exactly. With 4 components an Adobe APP14 marker (transform 0) is written, as Photoshop's CMYK JPEGs have,
    /// and the samples are stored as given (Adobe CMYK is stored inverted: 255 means no ink).
    /// </summary>
    public static byte[] FlatJpeg(int width, int height, params byte[] samples)
    {
        int nc = samples.Length;
        using var ms = new MemoryStream();
        ms.Write([0xFF, 0xD8]); // SOI
        if (nc == 4)
            ms.Write([0xFF, 0xEE, 0x00, 0x0E, (byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0x00, 0x64, 0, 0, 0, 0, 0]);
        // DQT: table 0, 8-bit, all ones.
        ms.Write([0xFF, 0xDB, 0x00, 0x43, 0x00]);
        ms.Write(Enumerable.Repeat((byte)1, 64).ToArray());
        // SOF0
        var sof = new List<byte> { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)nc };
        for (int c = 0; c < nc; c++) sof.AddRange([(byte)(c + 1), 0x11, 0]);
        WriteSegment(ms, 0xC0, [.. sof]);
        // DHT DC table 0: categories 0..11, all 4-bit codes (code = category).
        var dht = new List<byte> { 0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        dht.AddRange(Enumerable.Range(0, 12).Select(i => (byte)i));
        // DHT AC table 0: only EOB (0x00), a 1-bit code "0".
        dht.AddRange([0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        WriteSegment(ms, 0xC4, [.. dht]);
        // SOS
        var sos = new List<byte> { (byte)nc };
        for (int c = 0; c < nc; c++) sos.AddRange([(byte)(c + 1), 0x00]);
        sos.AddRange([0, 63, 0]);
        WriteSegment(ms, 0xDA, [.. sos]);

        var bits = new BitWriter(ms);
        int mcus = ((width + 7) / 8) * ((height + 7) / 8);
        for (int m = 0; m < mcus; m++)
            for (int c = 0; c < nc; c++)
            {
                // DC of a flat block of value v: 8 * (v - 128) (level shift, then the DCT's DC gain of 8).
                int diff = m == 0 ? 8 * (samples[c] - 128) : 0;
                int cat = diff == 0 ? 0 : 32 - int.LeadingZeroCount(Math.Abs(diff));
                bits.Write(cat, 4);
                if (cat > 0) bits.Write(diff > 0 ? diff : diff - 1 + (1 << cat), cat);
                bits.Write(0, 1); // EOB
            }
        bits.Flush();
        ms.Write([0xFF, 0xD9]); // EOI
        return ms.ToArray();
    }

    private static void WriteSegment(Stream s, byte marker, byte[] payload)
    {
        s.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        s.Write(payload);
    }

    private sealed class BitWriter(Stream s)
    {
        private int _acc, _n;

        public void Write(int value, int count)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                _acc = (_acc << 1) | ((value >> i) & 1);
                if (++_n == 8) Emit();
            }
        }

        public void Flush()
        {
            while (_n != 0) { _acc = (_acc << 1) | 1; if (++_n == 8) Emit(); }
        }

        private void Emit()
        {
            s.WriteByte((byte)_acc);
            if (_acc == 0xFF) s.WriteByte(0); // byte stuffing
            _acc = _n = 0;
        }
    }

    /// <summary>
    /// Inserts an EXIF APP1 segment holding only the Orientation tag (0x0112, SHORT) right after the JPEG's SOI.
    /// TIFF header big-endian ("MM", 42, IFD at offset 8); one IFD entry; no next IFD.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new byte[]
        {
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // header
            0x00, 0x01,                                               // 1 entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,           // tag 274, SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00,  // value, padded to 4 bytes
            0x00, 0x00, 0x00, 0x00,                                   // next IFD: none
        };
        byte[] payload = [.. "Exif\0\0"u8, .. tiff];
        using var ms = new MemoryStream();
        ms.Write(jpeg.AsSpan(0, 2));
        WriteSegment(ms, 0xE1, payload);
        ms.Write(jpeg.AsSpan(2));
        return ms.ToArray();
    }
}
