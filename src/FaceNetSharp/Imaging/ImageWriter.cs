using System.Buffers.Binary;
using System.IO.Compression;
using FaceNetSharp.IO;
using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>File formats <see cref="ImageWriter"/> writes.</summary>
public enum ImageFileFormat
{
    /// <summary>Lossless PNG, 8-bit RGB.</summary>
    Png,

    /// <summary>Lossy JPEG (baseline, 4:2:0 chroma as Skia's default).</summary>
    Jpeg,
}

/// <summary>
/// Writes <see cref="RgbImage"/>s as PNG or JPEG. Saving is atomic: the bytes go to a temporary file in the same
/// folder, which then replaces the target, so a reader never sees a half-written image. Thread-safe (no state).
/// </summary>
public static class ImageWriter
{
    /// <summary>Default JPEG quality (0-100): 95, the quality PIL users pick to keep faces free of block artefacts.</summary>
    public const int DefaultJpegQuality = 95;

    /// <summary>
    /// Saves <paramref name="image"/> to <paramref name="path"/>, choosing the format by extension
    /// (<c>.png</c>; <c>.jpg</c>/<c>.jpeg</c>). Creates the folder if needed and replaces an existing file.
    /// </summary>
    /// <param name="image">The image to write.</param>
    /// <param name="path">Target file; its extension chooses the format.</param>
    /// <param name="jpegQuality">JPEG quality 0-100; ignored for PNG.</param>
    /// <exception cref="ArgumentException">The extension is neither PNG nor JPEG.</exception>
    public static void Save(RgbImage image, string path, int jpegQuality = DefaultJpegQuality)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        var format = FormatFromExtension(path);
        byte[] encoded = Encode(image, format, jpegQuality);

        AtomicFile.Write(path, encoded);
    }

    /// <summary>The format a file name's extension asks for (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The extension is neither PNG nor JPEG.</exception>
    public static ImageFileFormat FormatFromExtension(string path) =>
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => ImageFileFormat.Png,
            ".jpg" or ".jpeg" => ImageFileFormat.Jpeg,
            var ext => throw new ArgumentException($"cannot write '{path}': extension '{ext}' is not .png, .jpg or .jpeg", nameof(path)),
        };

    /// <summary>Encodes <paramref name="image"/> in memory.</summary>
    /// <param name="image">The image to encode.</param>
    /// <param name="format">PNG or JPEG.</param>
    /// <param name="jpegQuality">JPEG quality 0-100; ignored for PNG.</param>
    public static unsafe byte[] Encode(RgbImage image, ImageFileFormat format, int jpegQuality = DefaultJpegQuality)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegative(jpegQuality);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jpegQuality, 100);
        if (format == ImageFileFormat.Png) return EncodePngRgb(image);
        byte[] rgba = SkiaPixels.ToRgba(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* p = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p);
            using var data = pixmap.Encode(new SKJpegEncoderOptions(jpegQuality))
                ?? throw new InvalidOperationException($"Skia could not encode a {image.Width}x{image.Height} image as {format}");
            return data.ToArray();
        }
    }

    /// <summary>
    /// PNG bytes of an RGB image, written here rather than by Skia: 8-bit RGB, every row with PNG's Sub filter, one
    /// IDAT chunk deflated by .NET's zlib at <see cref="CompressionLevel.Fastest"/>. Skia converts to RGBA first and
    /// tries all five filters on every row; for the 160x160 chips of `facenet align` this takes a fraction of its time
    /// (FACENETSHARP_PROFILE=1 "encode" stage, 300 chips: 760 CPU-ms with Skia's zlib level 1 and all filters).
    /// Skia with the same choices measured 2026-11-30 on a 160x160 LFW chip, 1000 encodes, 3 rounds, load 17-20: this
    /// writer 0.56-0.60 CPU-ms; Skia's Sub filter at zlib level 1 1.92-2.11 (1.32-1.50 given RGBA pixels), level 2
    /// 2.02-2.22, all filters 2.36-2.51. Every PNG of the library goes through here (chips, contact sheets, debug images),
    /// except the ROC plot (Skia's default level, for a smaller chart file).
    /// </summary>
    internal static byte[] EncodePngRgb(RgbImage image)
    {
        int w = image.Width, h = image.Height, rowBytes = w * 3;
        using var idat = new MemoryStream(rowBytes * h / 2 + 64);
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            byte[] row = System.Buffers.ArrayPool<byte>.Shared.Rent(rowBytes + 1);
            try
            {
                var px = image.Pixels.AsSpan();
                for (int y = 0; y < h; y++)
                {
                    var src = px.Slice(y * rowBytes, rowBytes);
                    var dst = row.AsSpan(0, rowBytes + 1);
                    dst[0] = 1; // filter type 1, Sub: each byte minus the byte one pixel to its left (0 for the first pixel)
                    src[..3].CopyTo(dst[1..]);
                    for (int i = 3; i < rowBytes; i++) dst[i + 1] = (byte)(src[i] - src[i - 3]);
                    z.Write(dst);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(row);
            }
        }
        var compressed = idat.GetBuffer().AsSpan(0, (int)idat.Length);
        var png = new byte[8 + (12 + 13) + (12 + compressed.Length) + 12];
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        signature.CopyTo(png);
        int at = 8;
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], h);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type 2: RGB
        ihdr[10] = ihdr[11] = ihdr[12] = 0; // deflate, adaptive filtering, no interlace
        at = WriteChunk(png, at, "IHDR"u8, ihdr);
        at = WriteChunk(png, at, "IDAT"u8, compressed);
        WriteChunk(png, at, "IEND"u8, []);
        return png;
    }

    /// <summary>A PNG chunk: length, type, data, CRC-32 of type and data. Returns the offset after it.</summary>
    private static int WriteChunk(byte[] png, int at, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(at), data.Length);
        type.CopyTo(png.AsSpan(at + 4));
        data.CopyTo(png.AsSpan(at + 8));
        uint crc = Crc32(png.AsSpan(at + 4, 4 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + data.Length), crc);
        return at + 12 + data.Length;
    }

    private static readonly uint[] CrcTable = MakeCrcTable();

    // PNG specification, annex D: CRC-32 with polynomial 0xEDB88320 (reflected), initial value and final xor 0xFFFFFFFF.
    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
