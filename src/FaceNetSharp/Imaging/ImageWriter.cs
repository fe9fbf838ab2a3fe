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
    /// <summary>
    /// zlib level for PNG: 1 (fastest). ../shared/docs/STACK.md measured Skia's default level (6) at 0.8 s for a 1080p PNG against
    /// 0.15 s for a fast level; chips and debug images do not need the few percent of size the slow level saves.
    /// </summary>
    internal const int PngZlibLevel = 1;

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
        byte[] rgba = SkiaPixels.ToRgba(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        fixed (byte* p = rgba)
        {
            using var pixmap = new SKPixmap(info, (IntPtr)p);
            if (format == ImageFileFormat.Png) return EncodePng(pixmap);
            using var data = pixmap.Encode(new SKJpegEncoderOptions(jpegQuality))
                ?? throw new InvalidOperationException($"Skia could not encode a {image.Width}x{image.Height} image as {format}");
            return data.ToArray();
        }
    }

    /// <summary>PNG bytes of <paramref name="pixmap"/> with this writer's settings (all filters, zlib level <see cref="PngZlibLevel"/>).</summary>
    internal static byte[] EncodePng(SKPixmap pixmap)
    {
        using var data = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, PngZlibLevel))
            ?? throw new InvalidOperationException($"Skia could not encode a {pixmap.Width}x{pixmap.Height} image as Png");
        return data.ToArray();
    }
}
