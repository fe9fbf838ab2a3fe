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
    public void PngOfNoisyImagesDecodesExactlyInSkiaAndCarriesValidChunks()
    {
        // the project's own PNG writer (Sub filter, .NET zlib): every byte value and neighbour difference, 1-pixel and
        // odd-sized images; Skia's decoder checks the zlib stream and (for IHDR/IEND) the CRCs.
        var random = new Random(7);
        foreach (var (w, h) in new[] { (1, 1), (1, 5), (7, 1), (160, 160), (333, 17) })
        {
            var pixels = new byte[w * h * 3];
            random.NextBytes(pixels);
            var img = new RgbImage(w, h, pixels);
            var png = ImageWriter.Encode(img, ImageFileFormat.Png);
            Assert.Equal(img.Pixels, ImageLoader.Decode(png, $"{w}x{h}").Pixels);
            // IEND: length 0, type, and the CRC-32 of "IEND", AE 42 60 82, as in every PNG
            Assert.Equal(new byte[] { 0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82 }, png[^12..]);
        }
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
