using FaceNetSharp.Detection;
using SkiaSharp;

namespace FaceNetSharp.Imaging;

/// <summary>Draws detections on a copy of an image (for <c>facenet detect --draw</c> and the web page).</summary>
public static class FaceDrawing
{
    /// <summary>A copy of <paramref name="image"/> with each face's box (green), score and landmarks (red dots).</summary>
    public static RgbImage Draw(RgbImage image, IReadOnlyList<DetectedFace> faces)
    {
        using var bitmap = SkiaPixels.ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
            DrawFaces(canvas, image.Width, image.Height, faces.Select(f => new LabelledFace(f.Box, f.Landmarks, f.Score.ToString("F3"), Detected)));
        return SkiaPixels.FromBitmap(bitmap);
    }

    /// <summary>
    /// The labels' typeface: Skia's default when it has glyphs; the Linux build without dependencies this project
    /// ships (SkiaSharp.NativeAssets.Linux.NoDependencies) has no fontconfig, its default typeface is empty and the
    /// labels came out blank, so then a common system font file (DejaVu, Liberation, FreeFont; Debian's defaults).
    /// With none, boxes and dots are still drawn.
    /// </summary>
    private static readonly Lazy<SKTypeface> LabelTypeface = new(() =>
    {
        var typeface = SKTypeface.Default;
        if (typeface.GlyphCount > 0) return typeface;
        foreach (var file in new[]
                 {
                     "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
                     "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
                     "/System/Library/Fonts/Helvetica.ttc", @"C:\Windows\Fonts\arial.ttf",
                 })
        {
            if (File.Exists(file) && SKTypeface.FromFile(file) is { GlyphCount: > 0 } t) return t;
        }
        return typeface;
    });

    /// <summary>The green of boxes and labels.</summary>
    internal static readonly SKColor Detected = new(0, 230, 64);

    /// <summary>A face to draw: its box, landmarks (red dots; may be empty), the label above the box and the colour of box and label.</summary>
    internal readonly record struct LabelledFace(FaceBox Box, IReadOnlyList<System.Numerics.Vector2> Landmarks, string Label, SKColor Color);

    /// <summary>Draws each face's box, label and landmarks on <paramref name="canvas"/> (an image of the given size;
    /// line widths and text follow its smaller side). Shared by <see cref="Draw"/> and the annotated video.</summary>
    internal static void DrawFaces(SKCanvas canvas, int width, int height, IEnumerable<LabelledFace> faces)
    {
        float stroke = Math.Max(2f, Math.Min(width, height) / 250f);
        using var boxPaint = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
        using var dotPaint = new SKPaint { Color = new SKColor(255, 40, 40), Style = SKPaintStyle.Fill, IsAntialias = true };
        using var textPaint = new SKPaint { IsAntialias = true };
        using var font = new SKFont(LabelTypeface.Value, Math.Max(12f, stroke * 7));
        foreach (var f in faces)
        {
            boxPaint.Color = f.Color;
            textPaint.Color = f.Color;
            canvas.DrawRect(SKRect.Create(f.Box.X1, f.Box.Y1, f.Box.Width, f.Box.Height), boxPaint);
            canvas.DrawText(f.Label, f.Box.X1, Math.Max(font.Size, f.Box.Y1 - stroke), SKTextAlign.Left, font, textPaint);
            foreach (var p in f.Landmarks) canvas.DrawCircle(p.X, p.Y, stroke * 1.5f, dotPaint);
        }
    }
}
