using System.Numerics;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Alignment;

/// <summary>
/// Cuts aligned face chips (square <see cref="RgbImage"/>s of <see cref="FaceAlignerOptions.OutputSize"/> pixels)
/// out of photos, either facenet's margin crop or a 5-point similarity warp. Immutable and thread-safe.
/// </summary>
public sealed class FaceAligner
{
    private readonly Vector2[] _template;

    /// <summary>Creates an aligner; <paramref name="options"/> null means <see cref="FaceAlignerOptions.ArcFace112"/>.</summary>
    public FaceAligner(FaceAlignerOptions? options = null)
    {
        Options = options ?? FaceAlignerOptions.ArcFace112;
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.OutputSize, 1, "options.ImageSize");
        ArgumentOutOfRangeException.ThrowIfNegative(Options.Margin, "options.Margin");
        _template = AlignmentTemplates.Points(Options.Template, Options.OutputSize);
    }

    /// <summary>The options in use.</summary>
    public FaceAlignerOptions Options { get; }

    /// <summary>Side of the produced chips, in pixels.</summary>
    public int OutputSize => Options.OutputSize;

    /// <summary>The chip of <paramref name="face"/>: its box in Crop mode, its landmarks in Similarity mode.</summary>
    public RgbImage Align(RgbImage image, DetectedFace face)
    {
        ArgumentNullException.ThrowIfNull(face);
        return Options.Mode == AlignmentMode.Crop ? Crop(image, face.Box) : Warp(image, face.Landmarks);
    }

    /// <summary>
    /// facenet's margin crop of <paramref name="box"/> (image pixels): <c>x1 = max(X1 - margin/2, 0)</c>,
    /// <c>y1 = max(Y1 - margin/2, 0)</c>, <c>x2 = min(X2 + margin/2, width)</c>, <c>y2 = min(Y2 + margin/2, height)</c>,
    /// each truncated to an integer as facenet's int32 array does; columns x1..x2-1 and rows y1..y2-1 are resized to
    /// the output size with PIL's bilinear (anti-aliased triangle) filter, as <c>scipy.misc.imresize(interp='bilinear')</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The widened box does not overlap the image.</exception>
    public RgbImage Crop(RgbImage image, FaceBox box)
    {
        ArgumentNullException.ThrowIfNull(image);
        var region = CropRegion(box, Options.Margin, image.Width, image.Height);
        int size = OutputSize;
        return ImageResize.Resize(image, region, size, size, ResizeKernel.Triangle);
    }

    /// <summary>
    /// Warps <paramref name="image"/> so that the five <paramref name="landmarks"/> (image pixels; left eye, right eye,
    /// nose, left and right mouth corners) land as close as possible (least squares) on the template.
    /// Pixels that map outside the photo are black.
    /// </summary>
    /// <exception cref="ArgumentException">Not exactly five landmarks, or all of them at one point.</exception>
    public RgbImage Warp(RgbImage image, ReadOnlySpan<Vector2> landmarks)
    {
        ArgumentNullException.ThrowIfNull(image);
        var transform = EstimateTransform(landmarks);
        return ImageWarp.WarpSimilarity(image, transform, OutputSize, OutputSize);
    }

    /// <summary>The image-to-chip transform for <paramref name="landmarks"/> (Umeyama least squares onto the template).</summary>
    public SimilarityTransform EstimateTransform(ReadOnlySpan<Vector2> landmarks)
    {
        if (landmarks.Length != _template.Length)
            throw new ArgumentException($"expected {_template.Length} landmarks, got {landmarks.Length}", nameof(landmarks));
        return SimilarityTransform.Umeyama(landmarks, _template);
    }

    internal static PixelRect CropRegion(FaceBox box, int margin, int imageWidth, int imageHeight)
    {
        double half = margin / 2.0;
        // np.maximum / np.minimum, then assignment into np.int32 (truncation toward zero).
        int x1 = (int)Math.Truncate(Math.Max(box.X1 - half, 0));
        int y1 = (int)Math.Truncate(Math.Max(box.Y1 - half, 0));
        int x2 = (int)Math.Truncate(Math.Min(box.X2 + half, imageWidth));
        int y2 = (int)Math.Truncate(Math.Min(box.Y2 + half, imageHeight));
        if (x2 <= x1 || y2 <= y1)
            throw new ArgumentException(
                $"box ({box.X1}, {box.Y1})-({box.X2}, {box.Y2}) with margin {margin} does not overlap the {imageWidth}x{imageHeight} image",
                nameof(box));
        return new PixelRect(x1, y1, x2 - x1, y2 - y1);
    }
}
