using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests.Imaging;

public sealed class ImageWriterTests : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void PngRoundTripIsExactAndLeavesNoTempFile()
    {
        var img = TestImageFiles.Gradient(31, 17);
        var path = Path.Combine(_tmp.Path, "sub", "chip.png");
        ImageWriter.Save(img, path);
        ImageWriter.Save(img, path); // overwrite
        Assert.Equal(img.Pixels, ImageLoader.Load(path).Pixels);
        Assert.Equal(["chip.png"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void JpegRoundTripIsClose()
    {
        var img = TestImageFiles.Gradient(64, 64);
        var path = Path.Combine(_tmp.Path, "chip.JPEG");
        ImageWriter.Save(img, path, jpegQuality: 95);
        var back = ImageLoader.Load(path);
        double mad = img.Pixels.Zip(back.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mad < 2, $"mean abs difference {mad}");
    }

    [Fact]
    public void UnknownExtensionIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageWriter.Save(TestImageFiles.Gradient(2, 2), Path.Combine(_tmp.Path, "x.bmp")));
        Assert.Contains("x.bmp", e.Message);
    }
}
