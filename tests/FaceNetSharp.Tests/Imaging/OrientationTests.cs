using FaceNetSharp.Imaging;
using SkiaSharp;

namespace FaceNetSharp.Tests.Imaging;

public sealed class OrientationTests
{
    // Stored 3x2 image whose red channel numbers the pixels: [[1, 2, 3], [4, 5, 6]]. The expected upright images are
    // the EXIF definitions of tag 274 worked by hand (e.g. 6 = rotate 90 degrees clockwise to view).
    [Theory]
    [InlineData(SKEncodedOrigin.TopLeft, 3, new byte[] { 1, 2, 3, 4, 5, 6 })]
    [InlineData(SKEncodedOrigin.TopRight, 3, new byte[] { 3, 2, 1, 6, 5, 4 })]
    [InlineData(SKEncodedOrigin.BottomRight, 3, new byte[] { 6, 5, 4, 3, 2, 1 })]
    [InlineData(SKEncodedOrigin.BottomLeft, 3, new byte[] { 4, 5, 6, 1, 2, 3 })]
    [InlineData(SKEncodedOrigin.LeftTop, 2, new byte[] { 1, 4, 2, 5, 3, 6 })]
    [InlineData(SKEncodedOrigin.RightTop, 2, new byte[] { 4, 1, 5, 2, 6, 3 })]
    [InlineData(SKEncodedOrigin.RightBottom, 2, new byte[] { 6, 3, 5, 2, 4, 1 })]
    [InlineData(SKEncodedOrigin.LeftBottom, 2, new byte[] { 3, 6, 2, 5, 1, 4 })]
    public void UprightPixelOrder(SKEncodedOrigin origin, int expectedWidth, byte[] expectedRed)
    {
        var rgba = new byte[6 * 4];
        for (int i = 0; i < 6; i++) rgba[i * 4] = (byte)(i + 1);
        var img = Orientation.ToUprightRgb(rgba, 4, 3, 2, origin);
        Assert.Equal(expectedWidth, img.Width);
        Assert.Equal(6 / expectedWidth, img.Height);
        Assert.Equal(expectedRed, Enumerable.Range(0, 6).Select(i => img.Pixels[i * 3]).ToArray());
    }
}
