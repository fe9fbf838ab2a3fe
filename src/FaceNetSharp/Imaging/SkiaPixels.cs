using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>Copies between <see cref="RgbImage"/> (packed RGB) and SkiaSharp bitmaps (RGBA, opaque).</summary>
internal static class SkiaPixels
{
    public static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        ToRgba(image).CopyTo(bitmap.GetPixelSpan());
        return bitmap;
    }

    /// <summary>Packed RGB to packed RGBA with alpha 255.</summary>
    public static byte[] ToRgba(RgbImage image)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        ToRgba(image.Pixels, rgba);
        return rgba;
    }

    /// <summary>Packed RGB to packed RGBA with alpha 255, into <paramref name="rgba"/> (four bytes for every three).</summary>
    public static void ToRgba(ReadOnlySpan<byte> rgb, Span<byte> rgba)
    {
        int n = rgb.Length / 3;
        if (rgba.Length < n * 4) throw new ArgumentException("RGBA buffer too small", nameof(rgba));
        for (int i = 0, s = 0, d = 0; i < n; i++, s += 3, d += 4)
        {
            rgba[d] = rgb[s];
            rgba[d + 1] = rgb[s + 1];
            rgba[d + 2] = rgb[s + 2];
            rgba[d + 3] = 255;
        }
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
                DropAlpha(src.Slice(y * rowBytes, w * 4), pixels.AsSpan(y * w * 3, w * 3));
            return new RgbImage(w, h, pixels);
        }
        finally
        {
            if (!ReferenceEquals(rgba, bitmap)) rgba.Dispose();
        }
    }

    /// <summary>Packed RGBA (or any 4-byte pixels whose first three are R, G, B) to packed RGB: <paramref name="rgb"/>
    /// holds three bytes for every four of <paramref name="rgba"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void DropAlpha(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int n = rgba.Length / 4;
        ArgumentOutOfRangeException.ThrowIfLessThan(rgb.Length, n * 3, nameof(rgb));
        int i = 0;
        fixed (byte* s = rgba)
        fixed (byte* d = rgb)
        {
            if (Vector128.IsHardwareAccelerated)
            {
                // 4 pixels a step: bytes 0-2, 4-6, 8-10, 12-14 to 0-11; the 16-byte store also writes 4 bytes that the
                // next step overwrites, so it stops while 16 bytes of room remain.
                var keep = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 255, 255, 255, 255);
                for (; 3 * i + 16 <= 3 * n; i += 4)
                    Vector128.Shuffle(Vector128.Load(s + 4 * i), keep).Store(d + 3 * i);
            }
            for (; i < n; i++)
            {
                d[3 * i] = s[4 * i];
                d[3 * i + 1] = s[4 * i + 1];
                d[3 * i + 2] = s[4 * i + 2];
            }
        }
    }
}
