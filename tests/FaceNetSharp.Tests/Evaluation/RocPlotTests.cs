using FaceNetSharp.Evaluation;
using SkiaSharp;

namespace FaceNetSharp.Tests.Evaluation;

public sealed class RocPlotTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WritesADecodablePngOfTheRequestedSize(bool logFpr)
    {
        var dir = Directory.CreateTempSubdirectory("roc-plot-").FullName;
        try
        {
            var rng = new Random(3);
            var same = Enumerable.Range(0, 400).Select(i => i % 2 == 0).ToArray();
            var d = same.Select(s => s ? rng.NextDouble() * 1.2 : 0.8 + rng.NextDouble() * 1.2).ToArray();
            var report = LfwEvaluation.Evaluate(d, same, folds: 10);
            var path = Path.Combine(dir, "sub", "roc.png");

            RocPlot.Write(path, report, new RocPlotOptions(Width: 640, Height: 480, LogFpr: logFpr, Title: "test"));

            using var bitmap = SKBitmap.Decode(path);
            Assert.NotNull(bitmap);
            Assert.Equal(640, bitmap.Width);
            Assert.Equal(480, bitmap.Height);
            // something besides the white background was drawn: the curve's blue appears
            bool hasCurveColour = false;
            for (int y = 0; y < bitmap.Height && !hasCurveColour; y++)
                for (int x = 0; x < bitmap.Width && !hasCurveColour; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    hasCurveColour = c.Blue > 150 && c.Red < 80;
                }
            Assert.True(hasCurveColour);
            // written atomically: only the PNG is left in the folder
            Assert.Equal(["roc.png"], Directory.GetFiles(Path.Combine(dir, "sub")).Select(Path.GetFileName));

            // overwriting an existing file works
            RocPlot.Write(path, report.Fpr, report.Tpr, "again", new RocPlotOptions(Width: 300, Height: 200));
            using var again = SKBitmap.Decode(path);
            Assert.Equal(300, again.Width);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RejectsMismatchedArrays()
    {
        Assert.Throws<ArgumentException>(() => RocPlot.Write(Path.Combine(Path.GetTempPath(), "never.png"), [0.0, 1.0], [0.0], "x"));
    }
}
