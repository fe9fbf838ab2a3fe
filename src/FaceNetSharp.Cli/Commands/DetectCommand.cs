using System.CommandLine;
using System.Text.Json;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary><c>facenet detect IMAGE... [--json] [--draw OUT_DIR]</c>: MTCNN faces, boxes and landmarks per image.</summary>
internal static class DetectCommand
{
    public static Command Create(CliContext ctx)
    {
        var images = CliApp.Files("IMAGE", "Image files");
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout: [{file, width, height, faces: [{box, score, landmarks}]}], and {file, error} for a file that failed" };
        var draw = new Option<string?>("--draw") { Description = "Write a copy of each image with boxes and landmarks drawn into this folder" };
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("detect", "Detect faces with MTCNN (facenet's settings) and print boxes, scores and 5 landmarks")
        {
            images, json, draw,
        };
        mtcnn.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var asJson = parse.GetValue(json);
            var c = ctx.ForDocument(asJson); // with --json, stdout is the JSON alone
            var store = CliApp.Store(parse);
            using var detector = MtcnnDetector.FromStore(store, mtcnn.Read(parse), ModelsLog(c));
            var drawDir = parse.GetValue(draw);
            var results = new List<object>();
            int failures = 0;
            foreach (var file in parse.GetValue(images)!)
            {
                RgbImage image;
                try
                {
                    image = ImageLoader.Load(file);
                }
                catch (ImageLoadException e)
                {
                    failures++;
                    c.Errors.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                    results.Add(new { file, error = e.Message });
                    continue;
                }
                var faces = detector.Detect(image);
                if (!asJson) Render(c, file, image, faces);
                string? drawError = null;
                if (drawDir is not null)
                {
                    var outPath = Path.Combine(drawDir, Path.GetFileNameWithoutExtension(file) + ".png");
                    try
                    {
                        ImageWriter.Save(FaceDrawing.Draw(image, faces), outPath);
                        if (!asJson) c.Console.MarkupLineInterpolated($"  drawn: {outPath}");
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        failures++;
                        drawError = $"cannot write {outPath}: {e.Message}";
                        c.Errors.MarkupLineInterpolated($"[red]error:[/] {drawError}");
                    }
                }
                if (asJson)
                {
                    var found = faces.Select(f => new
                    {
                        box = new[] { f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2 },
                        score = f.Score,
                        landmarks = f.Landmarks.Select(p => new[] { p.X, p.Y }).ToArray(),
                    }).ToArray();
                    results.Add(drawError is null
                        ? new { file, width = image.Width, height = image.Height, faces = found }
                        : new { file, width = image.Width, height = image.Height, faces = found, error = drawError });
                }
            }
            if (asJson)
                c.Out.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            return failures == 0 ? 0 : 1;
        });
        return cmd;
    }

    internal static IProgress<string> ModelsLog(CliContext ctx) =>
        new SyncProgress<string>(m => ctx.Console.MarkupLineInterpolated($"[grey]{m}[/]"));

    private static void Render(CliContext ctx, string file, RgbImage image, IReadOnlyList<DetectedFace> faces)
    {
        ctx.Console.MarkupLineInterpolated($"[bold]{file}[/] ({image.Width}x{image.Height}): {faces.Count} face(s)");
        if (faces.Count == 0) return;
        var table = new Table().AddColumns("#", "box x1,y1,x2,y2", "score", "landmarks (eyes, nose, mouth)");
        for (int i = 0; i < faces.Count; i++)
        {
            var f = faces[i];
            table.AddRow(
                i.ToString(),
                $"{f.Box.X1:F1}, {f.Box.Y1:F1}, {f.Box.X2:F1}, {f.Box.Y2:F1}",
                f.Score.ToString("F4"),
                string.Join("  ", f.Landmarks.Select(p => $"({p.X:F0},{p.Y:F0})")));
        }
        ctx.Console.Write(table);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
