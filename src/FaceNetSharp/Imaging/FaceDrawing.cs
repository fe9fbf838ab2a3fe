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
        {
            float stroke = Math.Max(2f, Math.Min(image.Width, image.Height) / 250f);
            using var boxPaint = new SKPaint { Color = new SKColor(0, 230, 64), Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
            using var dotPaint = new SKPaint { Color = new SKColor(255, 40, 40), Style = SKPaintStyle.Fill, IsAntialias = true };
            using var textPaint = new SKPaint { Color = new SKColor(0, 230, 64), IsAntialias = true };
            using var font = new SKFont { Size = Math.Max(12f, stroke * 7) };
            foreach (var f in faces)
            {
                canvas.DrawRect(SKRect.Create(f.Box.X1, f.Box.Y1, f.Box.Width, f.Box.Height), boxPaint);
                canvas.DrawText(f.Score.ToString("F3"), f.Box.X1, Math.Max(font.Size, f.Box.Y1 - stroke), SKTextAlign.Left, font, textPaint);
                foreach (var p in f.Landmarks) canvas.DrawCircle(p.X, p.Y, stroke * 1.5f, dotPaint);
            }
        }
        return SkiaPixels.FromBitmap(bitmap);
    }
}
