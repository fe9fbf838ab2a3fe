using System.Buffers.Binary;
using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>
/// Reads image files into <see cref="RgbImage"/>. The format is found from the content, never from the extension
/// (a PNG or WebP named <c>.jpg</c> loads). Decodes what SkiaSharp decodes (JPEG including CMYK, PNG including
/// grey, palette and 16-bit, WebP, GIF first frame, BMP, ICO, WBMP) plus binary and ASCII PGM/PPM (P2, P3, P5, P6),
/// which Skia cannot read and the ORL/AT&amp;T face set uses.
/// </summary>
/// <remarks>
/// <para>Conventions of the result: 8-bit RGB, upright (the EXIF orientation of JPEG/WebP/PNG is applied, so
/// width and height are swapped for orientations 5 to 8). Transparent pixels are composited on black
/// (RGB is multiplied by alpha; alpha is then dropped). No ICC colour management is applied: the stored
/// samples are used as they are, as facenet's readers (scipy/PIL, OpenCV) do.</para>
/// <para>Every failure is an <see cref="ImageLoadException"/> whose message names the file and the problem.
/// Thread-safe: the class holds no state.</para>
/// </remarks>
public static class ImageLoader
{
    /// <summary>Reads and decodes the file at <paramref name="path"/>.</summary>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, empty, not an image, truncated,
    /// corrupt, or larger than <see cref="ImageLoadOptions.MaxPixels"/>.</exception>
    public static RgbImage Load(string path, ImageLoadOptions? options = null) => Load(path, options, null);

    /// <summary>
    /// <see cref="Load(string, ImageLoadOptions?)"/>, taking the result's pixel array (exactly width x height x 3 bytes,
    /// every byte overwritten) from <paramref name="pixels"/> where the image is decoded upright by rows (JPEG and PNG
    /// without rotation); <c>facenet align</c> reuses the arrays of finished images so.
    /// </summary>
    internal static RgbImage Load(string path, ImageLoadOptions? options, Func<int, byte[]>? pixels)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data;
        try
        {
            if (IO.InputFile.IsEmptyOrSpecial(path)) // a FIFO would block the read
                throw new ImageLoadException(path, ImageLoadFailure.Empty, IO.InputFile.EmptyOrSpecialProblem);
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new ImageLoadException(path, ImageLoadFailure.NotFound, "the file does not exist", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ImageLoadException(path, ImageLoadFailure.NotFound, "the folder of the file does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException(path, ImageLoadFailure.Unreadable, "access denied (or the path is a folder)", e);
        }
        catch (IOException e)
        {
            throw new ImageLoadException(path, ImageLoadFailure.Unreadable, "cannot read the file: " + e.Message, e);
        }
        return Decode(data, path, options, pixels);
    }

    /// <summary>Decodes an encoded image read from <paramref name="data"/> (read to its end).</summary>
    /// <param name="data">The encoded image.</param>
    /// <param name="nameForErrors">The file name or other label that error messages name.</param>
    /// <param name="options">Limits; <see cref="ImageLoadOptions.Default"/> when null.</param>
    public static RgbImage Decode(Stream data, string nameForErrors, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream();
            data.CopyTo(buffer);
            bytes = buffer.ToArray();
        }
        catch (IOException e)
        {
            throw new ImageLoadException(nameForErrors, ImageLoadFailure.Unreadable, "cannot read the stream: " + e.Message, e);
        }
        return Decode(bytes, nameForErrors, options);
    }

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="data">The encoded image (all of it).</param>
    /// <param name="nameForErrors">The file name or other label that error messages name.</param>
    /// <param name="options">Limits; <see cref="ImageLoadOptions.Default"/> when null.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> data, string nameForErrors, ImageLoadOptions? options = null) =>
        Decode(data, nameForErrors, options, null);

    private static RgbImage Decode(ReadOnlySpan<byte> data, string nameForErrors, ImageLoadOptions? options, Func<int, byte[]>? pixels)
    {
        ArgumentNullException.ThrowIfNull(nameForErrors);
        options ??= ImageLoadOptions.Default;
        if (data.IsEmpty)
            throw new ImageLoadException(nameForErrors, ImageLoadFailure.Empty, "the file is empty (0 bytes)");

        // A PNG's IHDR is at a fixed place: refuse a huge declared size before Skia even parses the stream.
        if (TryReadPngSize(data, out int pngW, out int pngH))
            CheckPixelLimit(nameForErrors, pngW, pngH, options);

        if (PnmReader.LooksLikePnm(data))
            return PnmReader.Decode(data, nameForErrors, options);

        return DecodeWithSkia(data, nameForErrors, options, pixels);
    }

    /// <summary>
    /// The width and height an encoded image's header declares (before any EXIF rotation), read without decoding
    /// its pixels: what a caller budgeting memory by pixels needs before it decodes. False when the header is not
    /// one of a format Skia opens (JPEG, PNG, WebP, GIF, BMP, ICO, WBMP); PGM/PPM are not read here (their raster
    /// holds at least one byte per pixel, so the data's length bounds their size).
    /// </summary>
    public static bool TryReadSize(ReadOnlySpan<byte> data, out int width, out int height)
    {
        if (TryReadPngSize(data, out width, out height)) return true;
        width = height = 0;
        if (data.IsEmpty || PnmReader.LooksLikePnm(data)) return false;
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(new SKMemoryStream(skData), out _);
        if (codec is null) return false;
        (width, height) = (codec.Info.Width, codec.Info.Height);
        return width > 0 && height > 0;
    }

    internal static void CheckPixelLimit(string name, long width, long height, ImageLoadOptions options)
    {
        if (width <= 0 || height <= 0)
            throw new ImageLoadException(name, ImageLoadFailure.Corrupt, $"the header declares an invalid size {width}x{height}");
        long pixels = width * height;
        if (pixels > options.MaxPixels)
            throw new ImageLoadException(name, ImageLoadFailure.TooLarge,
                $"the header declares {width}x{height} = {pixels:N0} pixels, more than the limit of {options.MaxPixels:N0} " +
                "(ImageLoadOptions.MaxPixels); nothing was decoded");
    }

    private static bool TryReadPngSize(ReadOnlySpan<byte> data, out int width, out int height)
    {
        // PNG signature (8 bytes), then the IHDR chunk: length (4), "IHDR" (4), width (4, big-endian), height (4).
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        width = height = 0;
        if (data.Length < 24 || !data[..8].SequenceEqual(signature) || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
            return false;
        uint w = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(16, 4));
        uint h = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20, 4));
        width = (int)Math.Min(w, int.MaxValue);
        height = (int)Math.Min(h, int.MaxValue);
        return true;
    }

    private static unsafe RgbImage DecodeWithSkia(ReadOnlySpan<byte> data, string name, ImageLoadOptions options, Func<int, byte[]>? pixels)
    {
        using var skData = SKData.CreateCopy(data);
        // Native SkCodec takes ownership of the stream whether or not it opens (SkiaSharp revokes the wrapper's ownership).
        var stream = new SKMemoryStream(skData);
        using var codec = SKCodec.Create(stream, out SKCodecResult openResult);
        if (codec is null)
        {
            // Skia also answers IncompleteInput for any input shorter than its sniffing window, so only a known
            // signature makes a short input "truncated".
            if (openResult == SKCodecResult.IncompleteInput && SniffSignature(data) is { } format)
                throw new ImageLoadException(name, ImageLoadFailure.Truncated,
                    $"the {format} data ends inside the image header ({data.Length} bytes)");
            throw new ImageLoadException(name, ImageLoadFailure.UnknownFormat,
                "the content is not a supported image (JPEG, PNG, WebP, GIF, BMP, ICO, WBMP, PGM/PPM); " +
                $"it starts with {DescribeStart(data)}");
        }

        var info = codec.Info;
        CheckPixelLimit(name, info.Width, info.Height, options);

        // Premultiplied RGBA: dropping alpha afterwards leaves the image composited on black.
        var dstInfo = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        if (TryDecodeByRows(codec, dstInfo, pixels) is { } upright)
            return upright;
        // Whole-image decode: other orientations, codecs without scanline decoding (WebP), and every failure (decoded
        // again here from a fresh codec, so that the error is classified by GetPixels' result). The RGBA copy lives in
        // native memory, freed as soon as the RGB image is made.
        using var fresh = SKCodec.Create(new SKMemoryStream(skData), out _)
            ?? throw new ImageLoadException(name, ImageLoadFailure.Corrupt, "the decoder could not be reopened");
        using var rgba = new NativeBuffer<byte>(checked(info.Width * info.Height * 4));
        SKCodecResult result;
        fixed (byte* p = rgba.Span)
            result = fresh.GetPixels(dstInfo, (IntPtr)p);

        switch (result)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput:
                throw new ImageLoadException(name, ImageLoadFailure.Truncated,
                    $"the {codec.EncodedFormat.ToString().ToUpperInvariant()} data is truncated: the file ends before all {info.Width}x{info.Height} pixels are decoded");
            case SKCodecResult.ErrorInInput:
                throw new ImageLoadException(name, ImageLoadFailure.Corrupt,
                    $"the {codec.EncodedFormat.ToString().ToUpperInvariant()} data is corrupt: the decoder stopped at an error in the compressed data");
            default:
                throw new ImageLoadException(name, ImageLoadFailure.Corrupt,
                    $"the {codec.EncodedFormat.ToString().ToUpperInvariant()} decoder failed ({result}) for a {info.Width}x{info.Height} image");
        }

        return Orientation.ToUprightRgb(rgba.Span, 4, info.Width, info.Height, fresh.EncodedOrigin);
    }

    /// <summary>
    /// Decodes an upright (EXIF top-left) image a few rows at a time straight into its RGB result, so that decoding
    /// needs the result plus a small RGBA buffer (not a whole RGBA copy: 158 MB more for 40 Mpx). Null when the codec
    /// cannot decode by rows, the image needs rotating, or decoding stops early (the caller then decodes it whole, which
    /// classifies the failure).
    /// </summary>
    private static unsafe RgbImage? TryDecodeByRows(SKCodec codec, SKImageInfo dstInfo, Func<int, byte[]>? pixels)
    {
        if (codec.EncodedOrigin != SKEncodedOrigin.TopLeft) return null;
        if (codec.StartScanlineDecode(dstInfo) != SKCodecResult.Success || codec.ScanlineOrder != SKCodecScanlineOrder.TopDown)
            return null;
        int w = dstInfo.Width, h = dstInfo.Height, rowBytes = w * 4;
        int chunk = Math.Clamp((1 << 22) / rowBytes, 1, h); // rows per call: a buffer of at most 4 MB (or one row)
        int length = checked(w * h * 3);
        var rgb = pixels?.Invoke(length) ?? new byte[length];
        if (rgb.Length != length) throw new InvalidOperationException($"the pixel array given has {rgb.Length} bytes, not {length}");
        using var rows = new NativeBuffer<byte>(checked(chunk * rowBytes));
        fixed (byte* p = rows.Span)
        {
            for (int y = 0; y < h; y += chunk)
            {
                int n = Math.Min(chunk, h - y);
                if (codec.GetScanlines((IntPtr)p, n, rowBytes) != n) return null;
                SkiaPixels.DropAlpha(new ReadOnlySpan<byte>(p, n * rowBytes), rgb.AsSpan(y * w * 3, n * w * 3));
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /// <summary>The format whose magic number starts <paramref name="data"/>, or null.</summary>
    private static string? SniffSignature(ReadOnlySpan<byte> data)
    {
        // Magic numbers from each format's specification.
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "JPEG";
        if (data.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "PNG";
        if (data.StartsWith("GIF8"u8)) return "GIF";
        if (data.StartsWith("RIFF"u8) && (data.Length < 12 || data.Slice(8, 4).SequenceEqual("WEBP"u8))) return "WebP";
        if (data.StartsWith("BM"u8)) return "BMP";
        return null;
    }

    private static string DescribeStart(ReadOnlySpan<byte> data)
    {
        var head = data[..Math.Min(8, data.Length)];
        string hex = Convert.ToHexString(head);
        bool printable = true;
        foreach (byte b in head)
            printable &= b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t';
        return printable
            ? $"the text \"{System.Text.Encoding.ASCII.GetString(head).ReplaceLineEndings(" ")}\" (bytes {hex})"
            : $"the bytes {hex}";
    }
}
