namespace FaceNetSharp.Imaging;

/// <summary>
/// An 8-bit RGB image in row-major, interleaved order (R, G, B per pixel, no padding between rows).
/// Pixel (x, y) starts at <c>(y * Width + x) * 3</c>. Orientation is already applied (EXIF honoured).
/// </summary>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied): exactly width x height x 3 bytes, RGB interleaved.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "image must be at least 1x1");
        if (pixels.Length != checked(width * height * 3))
            throw new ArgumentException($"expected {width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>RGB bytes, <c>Width * Height * 3</c> long.</summary>
    public byte[] Pixels { get; }
}
