using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>Copies between <see cref="RgbImage"/> (packed RGB) and SkiaSharp bitmaps (RGBA, opaque).</summary>
internal static class SkiaPixels
{
    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var dst = bitmap.GetPixelSpan();
        var src = image.Pixels;
        for (int i = 0, j = 0; i < src.Length; i += 3, j += 4)
        {
            dst[j] = src[i]; dst[j + 1] = src[i + 1]; dst[j + 2] = src[i + 2]; dst[j + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>Reads any bitmap as RGB (converted to RGBA 8888 first when needed; alpha is dropped).</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap)
    {
        SKBitmap rgba = bitmap;
        if (bitmap.ColorType != SKColorType.Rgba8888)
        {
            rgba = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            if (!bitmap.CopyTo(rgba, SKColorType.Rgba8888)) throw new InvalidOperationException("cannot convert bitmap to RGBA");
        }
        try
        {
            var src = rgba.GetPixelSpan();
            int w = rgba.Width, h = rgba.Height, rowBytes = rgba.RowBytes;
            var pixels = new byte[w * h * 3];
            for (int y = 0; y < h; y++)
            {
                var row = src.Slice(y * rowBytes, w * 4);
                int o = y * w * 3;
                for (int x = 0; x < w; x++)
                {
                    pixels[o++] = row[4 * x]; pixels[o++] = row[4 * x + 1]; pixels[o++] = row[4 * x + 2];
                }
            }
            return new RgbImage(w, h, pixels);
        }
        finally
        {
            if (!ReferenceEquals(rgba, bitmap)) rgba.Dispose();
        }
    }
}
