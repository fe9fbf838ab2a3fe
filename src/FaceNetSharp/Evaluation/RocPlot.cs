using FaceNetSharp.IO;
using System.Globalization;
using SkiaSharp;

namespace FaceNetSharp.Evaluation;

/// <summary>Appearance of a ROC plot.</summary>
/// <param name="Width">Image width in pixels (at least 200).</param>
/// <param name="Height">Image height in pixels (at least 150).</param>
/// <param name="LogFpr">Draw the FPR axis logarithmically from <paramref name="MinLogFpr"/> to 1 (points below it sit on the left edge).</param>
/// <param name="MinLogFpr">Left end of a logarithmic FPR axis (a power of ten reads best).</param>
/// <param name="Title">Title above the plot; null gives "ROC".</param>
public sealed record RocPlotOptions(int Width = 800, int Height = 600, bool LogFpr = false, double MinLogFpr = 1e-4, string? Title = null);

/// <summary>Draws a ROC curve (FPR on x, TPR on y) to a PNG file with SkiaSharp. Thread-safe (no shared state).</summary>
public static class RocPlot
{
    /// <summary>Writes the mean ROC curve of a report, with AUC, EER and accuracy in the legend.</summary>
    /// <param name="path">PNG file to write; replaced atomically (written beside it, then moved), its folder created if needed.</param>
    /// <param name="report">The evaluation to plot.</param>
    /// <param name="options">Size, axis scale and title; null for the defaults.</param>
    public static void Write(string path, VerificationReport report, RocPlotOptions? options = null)
    {
        var label = string.Format(CultureInfo.InvariantCulture, "AUC {0:0.0000}, EER {1:0.0000}, accuracy {2:0.0000}±{3:0.0000}",
            report.Auc, report.Eer, report.Accuracy, report.AccuracyStd);
        Write(path, report.Fpr, report.Tpr, label, options);
    }

    /// <summary>Writes one ROC curve given as matching FPR/TPR arrays (in [0, 1]), labelled in the legend.</summary>
    /// <param name="path">PNG file to write; replaced atomically, its folder created if needed.</param>
    /// <param name="fpr">False positive rates.</param>
    /// <param name="tpr">True positive rates, one per FPR.</param>
    /// <param name="label">Legend text for the curve.</param>
    /// <param name="options">Size, axis scale and title; null for the defaults.</param>
    /// <exception cref="ArgumentException">The arrays differ in length or the size is too small.</exception>
    public static void Write(string path, IReadOnlyList<double> fpr, IReadOnlyList<double> tpr, string label, RocPlotOptions? options = null)
    {
        options ??= new RocPlotOptions();
        if (fpr.Count != tpr.Count) throw new ArgumentException($"{fpr.Count} FPR values but {tpr.Count} TPR values");
        if (options.Width < 200 || options.Height < 150) throw new ArgumentException($"plot size {options.Width}x{options.Height} is below 200x150");
        if (options.LogFpr && !(options.MinLogFpr > 0 && options.MinLogFpr < 1)) throw new ArgumentException("MinLogFpr must lie in (0, 1)");

        byte[] png = Render(fpr, tpr, label, options);
        AtomicFile.Write(path, png);
    }

    private static byte[] Render(IReadOnlyList<double> fpr, IReadOnlyList<double> tpr, string label, RocPlotOptions o)
    {
        using var surface = SKSurface.Create(new SKImageInfo(o.Width, o.Height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {o.Width}x{o.Height} surface");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);

        using var typeface = LoadTypeface();
        using var font = new SKFont(typeface, 14);
        using var titleFont = new SKFont(typeface, 18);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };

        // plot area (pixels)
        float left = 72, right = o.Width - 24, top = 48, bottom = o.Height - 60;
        float X(double v)
        {
            double u = o.LogFpr ? (Math.Log10(Math.Max(v, o.MinLogFpr)) - Math.Log10(o.MinLogFpr)) / -Math.Log10(o.MinLogFpr) : v;
            return left + (float)Math.Clamp(u, 0, 1) * (right - left);
        }
        float Y(double v) => bottom - (float)Math.Clamp(v, 0, 1) * (bottom - top);

        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };

        // y ticks 0, 0.2, ..., 1
        for (int i = 0; i <= 5; i++)
        {
            double v = i / 5.0;
            canvas.DrawLine(left, Y(v), right, Y(v), grid);
            canvas.DrawText(v.ToString("0.0", CultureInfo.InvariantCulture), left - 8, Y(v) + 5, SKTextAlign.Right, font, text);
        }
        // x ticks: decades on a log axis, else 0, 0.2, ..., 1
        var xTicks = o.LogFpr
            ? Enumerable.Range(0, (int)Math.Round(-Math.Log10(o.MinLogFpr)) + 1).Select(k => o.MinLogFpr * Math.Pow(10, k)).Where(v => v <= 1 + 1e-12)
            : Enumerable.Range(0, 6).Select(i => i / 5.0);
        foreach (var v in xTicks)
        {
            canvas.DrawLine(X(v), top, X(v), bottom, grid);
            var s = v.ToString(o.LogFpr ? "g3" : "0.0", CultureInfo.InvariantCulture);
            canvas.DrawText(s, X(v), bottom + 20, SKTextAlign.Center, font, text);
        }
        canvas.DrawRect(left, top, right - left, bottom - top, axis);

        // chance line TPR = FPR
        using (var chance = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([6, 4], 0) })
        {
            var points = Enumerable.Range(0, 101)
                .Select(i => o.LogFpr ? o.MinLogFpr * Math.Pow(1 / o.MinLogFpr, i / 100.0) : i / 100.0)
                .Select(v => new SKPoint(X(v), Y(v))).ToArray();
            canvas.DrawPoints(SKPointMode.Polygon, points, chance);
        }

        // the curve, in the order given
        var curveColor = new SKColor(31, 119, 180);
        using (var curve = new SKPaint { Color = curveColor, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round })
        {
            var points = Enumerable.Range(0, fpr.Count).Select(i => new SKPoint(X(fpr[i]), Y(tpr[i]))).ToArray();
            canvas.DrawPoints(SKPointMode.Polygon, points, curve);
        }

        // title, axis labels, legend
        canvas.DrawText(o.Title ?? "ROC", o.Width / 2f, 30, SKTextAlign.Center, titleFont, text);
        canvas.DrawText(o.LogFpr ? "False positive rate (FAR, log scale)" : "False positive rate (FAR)", (left + right) / 2, o.Height - 18, SKTextAlign.Center, font, text);
        canvas.Save();
        canvas.RotateDegrees(-90, 22, (top + bottom) / 2);
        canvas.DrawText("True positive rate (TAR)", 22, (top + bottom) / 2 + 5, SKTextAlign.Center, font, text);
        canvas.Restore();

        float legendWidth = font.MeasureText(label) + 44;
        float lx = right - legendWidth - 10, ly = bottom - 40;
        using (var box = new SKPaint { Color = new SKColor(255, 255, 255, 230), Style = SKPaintStyle.Fill })
            canvas.DrawRect(lx, ly, legendWidth, 28, box);
        canvas.DrawRect(lx, ly, legendWidth, 28, grid);
        using (var swatch = new SKPaint { Color = curveColor, StrokeWidth = 2.5f, IsAntialias = true })
            canvas.DrawLine(lx + 8, ly + 14, lx + 32, ly + 14, swatch);
        canvas.DrawText(label, lx + 38, ly + 19, SKTextAlign.Left, font, text);

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>
    /// The platform's default typeface, or, where SkiaSharp has no font manager (the Linux "NoDependencies" native
    /// build has no fontconfig, so text would not draw), the first of a few usual system font files.
    /// </summary>
    private static SKTypeface LoadTypeface()
    {
        var def = SKFontManager.Default.MatchFamily(null) ?? SKTypeface.Default;
        if (def.GlyphCount > 0) return def;
        string[] candidates =
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/System/Library/Fonts/Helvetica.ttc",
            @"C:\Windows\Fonts\arial.ttf",
        ];
        foreach (var file in candidates)
        {
            if (!File.Exists(file)) continue;
            var tf = SKTypeface.FromFile(file);
            if (tf is not null && tf.GlyphCount > 0) return tf;
        }
        return def; // text is left out; the curve and axes still draw
    }
}
