using System.Text.Json;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Cli;

[Collection(InstalledModelsCollection.Name)]
public sealed class DetectCommandTests(InstalledModelsFixture fx)
{
    [SkippableFact]
    public void Json_HasTheDocumentedShape_AndDrawWritesCopies()
    {
        fx.Require();
        var photo = TestPaths.Shared("faces", "facenet-pytorch-test-images", "data", "multiface.jpg");
        var draw = Directory.CreateTempSubdirectory("fns-draw").FullName;
        try
        {
            var r = CliRunner.Run("detect", photo, "--json", "--draw", draw);
            Assert.Equal(0, r.ExitCode);
            var doc = JsonDocument.Parse(r.Out).RootElement;
            var item = Assert.Single(doc.EnumerateArray());
            Assert.Equal(photo, item.GetProperty("file").GetString());
            Assert.Equal(1200, item.GetProperty("width").GetInt32());
            Assert.Equal(630, item.GetProperty("height").GetInt32());
            var faces = item.GetProperty("faces").EnumerateArray().ToList();
            Assert.Equal(6, faces.Count);
            foreach (var f in faces)
            {
                Assert.Equal(4, f.GetProperty("box").GetArrayLength());
                Assert.InRange(f.GetProperty("score").GetDouble(), 0.7, 1.0);
                var lm = f.GetProperty("landmarks").EnumerateArray().ToList();
                Assert.Equal(5, lm.Count);
                Assert.All(lm, p => Assert.Equal(2, p.GetArrayLength()));
            }
            var drawn = ImageLoader.Load(Path.Combine(draw, "multiface.png"));
            Assert.Equal((1200, 630), (drawn.Width, drawn.Height));
        }
        finally
        {
            Directory.Delete(draw, true);
        }
    }

    [SkippableFact]
    public void BadFile_IsNamed_OthersGoOn()
    {
        fx.Require();
        var bad = Path.Combine(Path.GetTempPath(), $"fns-bad-{Guid.NewGuid():N}.jpg");
        File.WriteAllText(bad, "<html>not a photo</html>");
        try
        {
            var good = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
            var r = CliRunner.Run("detect", bad, good);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(Path.GetFileName(bad), r.Console);
            Assert.Contains("1 face(s)", r.Console);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [SkippableFact]
    public void ModelsList_ShowsInstalledModels()
    {
        fx.Require();
        var r = CliRunner.Run("models", "list");
        Assert.Equal(0, r.ExitCode);
        foreach (var m in new[] { "mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "mobilefacenet", "dlib-resnet" })
            Assert.Contains(m, r.Console);
    }
}
