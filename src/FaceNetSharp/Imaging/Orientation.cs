using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>Applies an EXIF orientation while converting packed RGB/RGBA bytes to an upright <see cref="RgbImage"/>.</summary>
internal static class Orientation
{
    /// <summary>
    /// Copies the stored image (<paramref name="width"/> x <paramref name="height"/>, <paramref name="channels"/> bytes a
    /// pixel, first three R, G, B) into an upright RGB image: the one a viewer shows for the EXIF orientation
    /// <paramref name="origin"/> (TIFF/EXIF tag 274 values 1-8 in the order of <see cref="SKEncodedOrigin"/>).
    /// </summary>
    public static RgbImage ToUprightRgb(ReadOnlySpan<byte> src, int channels, int width, int height, SKEncodedOrigin origin)
    {
        // Upright pixel (ux, uy) comes from stored pixel index  start + ux * stepX + uy * stepY.
        // Derivation per EXIF value, with W, H the stored size:
        //   1 TopLeft     sx = ux,        sy = uy            (as stored)
        //   2 TopRight    sx = W-1-ux,    sy = uy            (mirror left-right)
        //   3 BottomRight sx = W-1-ux,    sy = H-1-uy        (rotate 180)
        //   4 BottomLeft  sx = ux,        sy = H-1-uy        (mirror top-bottom)
        //   5 LeftTop     sx = uy,        sy = ux            (transpose)
        //   6 RightTop    sx = uy,        sy = H-1-ux        (rotate 90 clockwise to view)
        //   7 RightBottom sx = W-1-uy,    sy = H-1-ux        (transverse)
        //   8 LeftBottom  sx = W-1-uy,    sy = ux            (rotate 90 counter-clockwise to view)
        int w = width, h = height;
        (int start, int stepX, int stepY, bool swap) = origin switch
        {
            SKEncodedOrigin.TopRight => (w - 1, -1, w, false),
            SKEncodedOrigin.BottomRight => ((h - 1) * w + w - 1, -1, -w, false),
            SKEncodedOrigin.BottomLeft => ((h - 1) * w, 1, -w, false),
            SKEncodedOrigin.LeftTop => (0, w, 1, true),
            SKEncodedOrigin.RightTop => ((h - 1) * w, -w, 1, true),
            SKEncodedOrigin.RightBottom => ((h - 1) * w + w - 1, -w, -1, true),
            SKEncodedOrigin.LeftBottom => (w - 1, w, -1, true),
            _ => (0, 1, w, false),
        };
        int outW = swap ? h : w, outH = swap ? w : h;
        var dst = new byte[checked(outW * outH * 3)];

        if (stepX == 1 && stepY == w && channels == 4)
        {
            // Upright RGBA, the common case: a straight channel drop.
            SkiaPixels.DropAlpha(src[..(w * h * 4)], dst);
        }
        else
        {
            int d = 0;
            for (int uy = 0; uy < outH; uy++)
            {
                int s = start + uy * stepY;
                for (int ux = 0; ux < outW; ux++, s += stepX, d += 3)
                {
                    int o = s * channels;
                    dst[d] = src[o];
                    dst[d + 1] = src[o + 1];
                    dst[d + 2] = src[o + 2];
                }
            }
        }
        return new RgbImage(outW, outH, dst);
    }
}
