namespace FaceNetSharp.Imaging;

/// <summary>Limits and choices for <see cref="ImageLoader"/>.</summary>
public sealed record ImageLoadOptions
{
    /// <summary>
    /// Default pixel limit: 40 megapixels. The largest photos in the test data are 3880x5184 (20 MP); 40 MP leaves room
    /// for modern phone cameras while refusing decompression bombs (a 40 MP image decodes to 160 MB of RGBA).
    /// </summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>The default options.</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>
    /// Largest accepted width x height, in pixels, as declared by the file header. Checked before any pixel is decoded.
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;
}
