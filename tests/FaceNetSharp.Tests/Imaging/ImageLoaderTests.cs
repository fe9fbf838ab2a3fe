using System.Text;
using FaceNetSharp.Imaging;
using SkiaSharp;

namespace FaceNetSharp.Tests.Imaging;

public sealed class ImageLoaderTests : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static ImageLoadException AssertFails(string path, ImageLoadFailure reason, ImageLoadOptions? options = null)
    {
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path, options));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        return e;
    }

    private static void AssertPixel(RgbImage img, int x, int y, int r, int g, int b, int tolerance = 0)
    {
        int i = (y * img.Width + x) * 3;
        var actual = (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
        Assert.True(Math.Abs(actual.Item1 - r) <= tolerance && Math.Abs(actual.Item2 - g) <= tolerance && Math.Abs(actual.Item3 - b) <= tolerance,
            $"pixel ({x},{y}) is {actual}, expected ({r},{g},{b}) within {tolerance}");
    }

    [Fact]
    public void MissingFileIsNotFound()
    {
        var e = AssertFails(Path.Combine(_tmp.Path, "nope.jpg"), ImageLoadFailure.NotFound);
        Assert.Contains("does not exist", e.Message);
        AssertFails(Path.Combine(_tmp.Path, "no-folder", "nope.jpg"), ImageLoadFailure.NotFound);
    }

    [Fact]
    public void FolderIsUnreadable() => AssertFails(_tmp.Path, ImageLoadFailure.Unreadable);

    [Fact]
    public void EmptyFileSaysEmpty()
    {
        var e = AssertFails(_tmp.Write("empty.jpg", []), ImageLoadFailure.Empty);
        Assert.Contains("empty", e.Message);
    }

    [SkippableFact]
    public void AFifoNamedLikeAPhotoIsRefusedWithoutBlocking()
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs in the file system are a Unix thing");
        var fifo = Path.Combine(_tmp.Path, "X_0001.jpg");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        // A thread of its own, not the thread pool: in a CI run the pool's threads were all busy with other tests for
        // over 10 s, the load had not started when the wait ended, and the write-only open below then blocked for ever
        // (a FIFO's writer waits for a reader, and the loader, rightly, never opens one).
        ImageLoadException? refused = null;
        Exception? other = null;
        var load = new Thread(() =>
        {
            try { ImageLoader.Load(fifo); }
            catch (ImageLoadException e) { refused = e; }
            catch (Exception e) { other = e; }
        }) { IsBackground = true };
        load.Start();
        try
        {
            Assert.True(load.Join(TimeSpan.FromSeconds(10)), "ImageLoader.Load blocks on a FIFO");
            Assert.Null(other);
            Assert.NotNull(refused);
            Assert.Equal(ImageLoadFailure.Empty, refused.Reason);
            Assert.Contains("not a regular file", refused.Message);
        }
        finally
        {
            // a blocked reader is released by a writer on the other end; opened read-write, the FIFO never blocks the
            // opener itself (Linux fifo(7))
            if (load.IsAlive) using (new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite)) { }
        }
    }

    [Fact]
    public void RandomBytesNamedJpgAreUnknownFormat()
    {
        var bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);
        bytes[0] = 0x17; // make sure no image signature starts the noise
        var e = AssertFails(_tmp.Write("noise.jpg", bytes), ImageLoadFailure.UnknownFormat);
        Assert.Contains("not a supported image", e.Message);
    }

    [Fact]
    public void TextFileIsUnknownFormatAndSaysText()
    {
        var e = AssertFails(_tmp.Write("notes.png", "Hello, this is not a picture.\n"u8), ImageLoadFailure.UnknownFormat);
        Assert.Contains("text \"Hello, t\"", e.Message);
    }

    [Fact]
    public void TruncatedJpegSaysTruncated()
    {
        var jpeg = ImageWriter.Encode(TestImageFiles.Gradient(64, 64), ImageFileFormat.Jpeg);
        var full = ImageLoader.Decode(jpeg, "full");
        Assert.Equal(64, full.Width);
        var e = AssertFails(_tmp.Write("cut.jpg", jpeg.AsSpan(0, jpeg.Length / 2)), ImageLoadFailure.Truncated);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void JpegCutInsideHeaderFails()
    {
        var jpeg = ImageWriter.Encode(TestImageFiles.Gradient(64, 64), ImageFileFormat.Jpeg);
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(_tmp.Write("head.jpg", jpeg.AsSpan(0, 20))));
        Assert.True(e.Reason is ImageLoadFailure.Truncated or ImageLoadFailure.UnknownFormat, e.Reason.ToString());
        Assert.Contains("head.jpg", e.Message);
    }

    [Fact]
    public void PngNamedJpgDecodesByContent()
    {
        var img = TestImageFiles.Gradient(33, 17);
        var loaded = ImageLoader.Load(_tmp.Write("really-png.jpg", ImageWriter.Encode(img, ImageFileFormat.Png)));
        Assert.Equal(img.Pixels, loaded.Pixels);
    }

    [Fact]
    public void WebpNamedJpgDecodesByContent()
    {
        var img = TestImageFiles.Gradient(40, 24);
        var rgba = SkiaPixels.ToRgba(img);
        using var skImage = SKImage.FromPixelCopy(new SKImageInfo(40, 24, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var pixmap = skImage.PeekPixels()!;
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 75))!;
        byte[] webp = data.ToArray();
        Assert.Equal("RIFF", Encoding.ASCII.GetString(webp, 0, 4));
        var loaded = ImageLoader.Load(_tmp.Write("really-webp.jpg", webp));
        Assert.Equal(img.Pixels, loaded.Pixels);
    }

    [SkippableFact]
    public void SharedWebpNamedJpgDecodes()
    {
        var path = TestPaths.Shared("faces", "deepface-tests", "tests", "unit", "dataset", "img47.jpg");
        Assert.Equal("RIFF", Encoding.ASCII.GetString(File.ReadAllBytes(path), 0, 4));
        var img = ImageLoader.Load(path);
        Assert.True(img.Width > 50 && img.Height > 50);
        Assert.Contains(img.Pixels, b => b > 0);
    }

    [Fact]
    public void GreyPngBecomesEqualRgb()
    {
        byte[][] rows = [[0, 100, 255], [7, 8, 9]];
        var img = ImageLoader.Load(_tmp.Write("grey.png", TestImageFiles.Png(3, 2, 8, 0, rows)));
        Assert.Equal((3, 2), (img.Width, img.Height));
        AssertPixel(img, 1, 0, 100, 100, 100);
        AssertPixel(img, 2, 0, 255, 255, 255);
        AssertPixel(img, 2, 1, 9, 9, 9);
    }

    [Fact]
    public void SixteenBitGreyPngIsReducedTo8Bit()
    {
        // Big-endian 16-bit samples chosen so that v/257 is exact: 0x0000, 0x4040, 0x8080, 0xFFFF -> 0, 64, 128, 255.
        byte[][] rows = [[0x00, 0x00, 0x40, 0x40, 0x80, 0x80, 0xFF, 0xFF]];
        var img = ImageLoader.Load(_tmp.Write("grey16.png", TestImageFiles.Png(4, 1, 16, 0, rows)));
        AssertPixel(img, 0, 0, 0, 0, 0);
        AssertPixel(img, 1, 0, 64, 64, 64);
        AssertPixel(img, 2, 0, 128, 128, 128);
        AssertPixel(img, 3, 0, 255, 255, 255);
    }

    [Fact]
    public void RgbaPngIsCompositedOnBlack()
    {
        byte[][] rows = [[200, 100, 50, 255, 200, 100, 50, 128, 200, 100, 50, 0]];
        var img = ImageLoader.Load(_tmp.Write("alpha.png", TestImageFiles.Png(3, 1, 8, 6, rows)));
        AssertPixel(img, 0, 0, 200, 100, 50);
        AssertPixel(img, 1, 0, 100, 50, 25, tolerance: 1); // 200 * 128/255 = 100.4 ...
        AssertPixel(img, 2, 0, 0, 0, 0);
    }

    [Fact]
    public void AdobeCmykJpegDecodes()
    {
        // Adobe CMYK is stored inverted (255 = no ink). Stored (255, 128, 0, 200): C=0, M=127, Y=255, K=55 ->
        // naive conversion R = 255*200/255 = 200, G = 128*200/255 = 100.4, B = 0.
        var path = _tmp.Write("cmyk.jpg", TestImageFiles.FlatJpeg(16, 8, 255, 128, 0, 200));
        var img = ImageLoader.Load(path);
        Assert.Equal((16, 8), (img.Width, img.Height));
        AssertPixel(img, 0, 0, 200, 100, 0, tolerance: 1);
        AssertPixel(img, 15, 7, 200, 100, 0, tolerance: 1);
    }

    [Fact]
    public void GreyJpegDecodes()
    {
        var img = ImageLoader.Load(_tmp.Write("grey.jpg", TestImageFiles.FlatJpeg(8, 8, 77)));
        AssertPixel(img, 3, 3, 77, 77, 77);
    }

    [Fact]
    public void ExifOrientation6IsRotatedUpright()
    {
        // Stored 48x32: a red 16x16 block at the stored top-left, grey elsewhere. Orientation 6 ("RightTop") means
        // the viewer rotates 90 degrees clockwise, so the upright image is 32x48 with the red block top-right.
        var stored = new byte[48 * 32 * 3];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++)
            {
                int i = (y * 48 + x) * 3;
                bool red = x < 16 && y < 16;
                stored[i] = red ? (byte)230 : (byte)128;
                stored[i + 1] = red ? (byte)20 : (byte)128;
                stored[i + 2] = red ? (byte)20 : (byte)128;
            }
        var jpeg = ImageWriter.Encode(new RgbImage(48, 32, stored), ImageFileFormat.Jpeg);
        var plain = ImageLoader.Decode(jpeg, "plain");
        Assert.Equal((48, 32), (plain.Width, plain.Height));

        var img = ImageLoader.Load(_tmp.Write("rotated.jpg", TestImageFiles.WithExifOrientation(jpeg, 6)));
        Assert.Equal((32, 48), (img.Width, img.Height));
        AssertPixel(img, 32 - 1 - 8, 8, 230, 20, 20, tolerance: 12); // stored (8, 8) -> upright (H-1-8, 8)
        AssertPixel(img, 8, 8, 128, 128, 128, tolerance: 12);
        AssertPixel(img, 32 - 1 - 8, 40, 128, 128, 128, tolerance: 12);
    }

    [Fact]
    public void HugePngHeaderIsRefusedBeforeDecoding()
    {
        // IHDR only (no IDAT): 50000 x 50000 RGB would need 10 GB to decode.
        var path = _tmp.Write("bomb.png", TestImageFiles.Png(50000, 50000, 8, 2, rows: null));
        var e = AssertFails(path, ImageLoadFailure.TooLarge);
        Assert.Contains("50000x50000", e.Message);
        Assert.Contains("MaxPixels", e.Message);
    }

    [Fact]
    public void PixelLimitAppliesToOtherFormatsFromTheirHeader()
    {
        var jpeg = ImageWriter.Encode(TestImageFiles.Gradient(64, 48), ImageFileFormat.Jpeg);
        var e = AssertFails(_tmp.Write("small.jpg", jpeg), ImageLoadFailure.TooLarge, new ImageLoadOptions { MaxPixels = 1000 });
        Assert.Contains("64x48", e.Message);
        Assert.Equal(64, ImageLoader.Load(Path.Combine(_tmp.Path, "small.jpg"), new ImageLoadOptions { MaxPixels = 64 * 48 }).Width);
    }

    [Fact]
    public void BinaryPgmP5()
    {
        byte[] pgm = [.. "P5\n# made by a test\n3 2\n255\n"u8, 0, 50, 100, 150, 200, 255];
        var img = ImageLoader.Load(_tmp.Write("face.pgm", pgm));
        Assert.Equal((3, 2), (img.Width, img.Height));
        AssertPixel(img, 1, 0, 50, 50, 50);
        AssertPixel(img, 2, 1, 255, 255, 255);
    }

    [Fact]
    public void AsciiPgmP2WithSmallMaxval()
    {
        var img = ImageLoader.Load(_tmp.Write("a.pgm", "P2\n2 2\n15\n0 15\n# comment\n 5 10\n"u8));
        AssertPixel(img, 1, 0, 255, 255, 255);
        AssertPixel(img, 0, 1, 85, 85, 85); // 5 * 255 / 15
        AssertPixel(img, 1, 1, 170, 170, 170);
    }

    [Fact]
    public void BinaryPpmP6And16BitPgm()
    {
        byte[] ppm = [.. "P6 2 1 255\n"u8, 10, 20, 30, 40, 50, 60];
        var img = ImageLoader.Load(_tmp.Write("c.ppm", ppm));
        AssertPixel(img, 0, 0, 10, 20, 30);
        AssertPixel(img, 1, 0, 40, 50, 60);

        byte[] pgm16 = [.. "P5 2 1 65535\n"u8, 0x80, 0x80, 0xFF, 0xFF];
        var g = ImageLoader.Load(_tmp.Write("d.pgm", pgm16));
        AssertPixel(g, 0, 0, 128, 128, 128);
        AssertPixel(g, 1, 0, 255, 255, 255);
    }

    [Fact]
    public void TruncatedPgmSaysTruncated()
    {
        byte[] pgm = [.. "P5\n92 112\n255\n"u8, .. new byte[500]];
        var e = AssertFails(_tmp.Write("cut.pgm", pgm), ImageLoadFailure.Truncated);
        Assert.Contains("500 of 10,304 bytes", e.Message);
    }

    [SkippableFact]
    public void SharedOrlPgmLoads()
    {
        var img = ImageLoader.Load(TestPaths.Shared("faces", "orl-att-faces", "orl_faces", "s1", "1.pgm"));
        Assert.Equal((92, 112), (img.Width, img.Height));
        for (int i = 0; i < img.Pixels.Length; i += 3)
            Assert.True(img.Pixels[i] == img.Pixels[i + 1] && img.Pixels[i] == img.Pixels[i + 2]);
    }

    [SkippableFact]
    public void SharedLfwJpegLoads()
    {
        var img = ImageLoader.Load(TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg"));
        Assert.Equal((250, 250), (img.Width, img.Height));
    }

    [Fact]
    public void DecodeFromStreamNamesTheStream()
    {
        var png = ImageWriter.Encode(TestImageFiles.Gradient(5, 4), ImageFileFormat.Png);
        Assert.Equal(5, ImageLoader.Decode(new MemoryStream(png), "upload#1").Width);
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(new MemoryStream("nope"u8.ToArray()), "upload#2"));
        Assert.Contains("upload#2", e.Message);
    }
}
