namespace FaceNetSharp.Imaging;

/// <summary>
/// An integer rectangle in image pixels: columns <c>X .. X+Width-1</c>, rows <c>Y .. Y+Height-1</c>.
/// It may extend past the image edges; resizing treats pixels outside the image as black (0, 0, 0), as MTCNN's
/// pad step does.
/// </summary>
internal readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    /// <summary>The whole of <paramref name="image"/>.</summary>
    public static PixelRect Of(RgbImage image) => new(0, 0, image.Width, image.Height);
}
