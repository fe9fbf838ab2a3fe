using System.CommandLine;
using FaceNetSharp.Alignment;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Detection;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet align INPUT_DIR OUTPUT_DIR</c>: facenet's align_dataset_mtcnn.py. Flags keep facenet's names
/// (<c>--image_size</c> and <c>--image-size</c> both work) and defaults.
/// </summary>
internal static class AlignCommand
{
    public static Command Create(CliContext ctx)
    {
        var input = new Argument<string>("INPUT_DIR") { Description = "Folder of class folders with photos (Name/Name_0001.jpg)" };
        var output = new Argument<string>("OUTPUT_DIR") { Description = "Where aligned faces go (Name/Name_0001.png)" };
        // facenet align_dataset_mtcnn.py defaults: image_size 182, margin 44 (its LFW tutorial passes 160 and 32).
        var imageSize = new Option<int>("--image-size", "--image_size") { Description = "Output size in pixels, crop mode (facenet: 182; the LFW tutorial uses 160). Similarity mode uses the template's size unless given", DefaultValueFactory = _ => 182 };
        var margin = new Option<int>("--margin") { Description = "Pixels added around the box before cropping, crop mode (facenet: 44; the LFW tutorial uses 32)", DefaultValueFactory = _ => 44 };
        var randomOrder = new Option<bool>("--random-order", "--random_order") { Description = "Shuffle the images, so several processes can share one output folder" };
        var multiple = new Option<bool>("--detect-multiple-faces", "--detect_multiple_faces") { Description = "Write every face of each photo (Name_0001_0.png, _1, ...)" };
        var mode = new Option<AlignmentMode>("--mode") { Description = "crop (facenet: box + margin, resized) or similarity (5-point warp onto a template)", DefaultValueFactory = _ => AlignmentMode.Crop };
        var template = new Option<AlignmentTemplate>("--template") { Description = "Similarity template: arcface112 (MobileFaceNet) or dlib150 (dlib ResNet)", DefaultValueFactory = _ => AlignmentTemplate.ArcFace112 };
        var workers = new Option<int>("--workers") { Description = "Images processed at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int?>("--seed") { Description = "Seed for --random-order" };
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("align", "Detect and align every face of a folder tree (facenet's align_dataset_mtcnn.py)")
        {
            input, output, imageSize, margin, randomOrder, multiple, mode, template, workers, seed,
        };
        mtcnn.AddTo(cmd);
        cmd.SetAction((parse, cancel) =>
        {
            var store = CliApp.Store(parse);
            var m = parse.GetValue(mode);
            var sizeGiven = parse.GetResult(imageSize) is { Implicit: false };
            var options = new DatasetAlignOptions
            {
                Alignment = new FaceAlignerOptions
                {
                    Mode = m,
                    ImageSize = m == AlignmentMode.Similarity && !sizeGiven ? null : parse.GetValue(imageSize),
                    Margin = parse.GetValue(margin),
                    Template = parse.GetValue(template),
                },
                RandomOrder = parse.GetValue(randomOrder),
                DetectMultipleFaces = parse.GetValue(multiple),
                Workers = parse.GetValue(workers),
                Seed = parse.GetValue(seed),
            };
            var inputDir = parse.GetValue(input)!;
            var outputDir = parse.GetValue(output)!;
            // a missing input folder, or one without images, fails here, before models load and anything is written
            int unreadable = 0;
            int total = DatasetAligner.ListInputs(inputDir, _ => unreadable++).Count;
            if (total == 0)
                throw new ArgumentException($"no images found under {inputDir}{(unreadable > 0 ? $" ({unreadable} class folders could not be listed)" : "")}");
            total += unreadable; // each is reported by the run as a failed item
            var mtcnnOptions = mtcnn.Read(parse);
            using var detector = MtcnnDetector.FromStore(store, mtcnnOptions, DetectCommand.ModelsLog(ctx));
            var aligner = new DatasetAligner(detector, options);

            var s = CliProgress.RunPolled(ctx, "aligning", total, itemDone => aligner.Run(inputDir, outputDir, r => itemDone(r.Outcome switch
                {
                    AlignOutcome.Failed => CliProgress.Failed(Markup.Escape(r.Error ?? r.InputPath)),
                    AlignOutcome.NoFace => $"[yellow]no face:[/] {Markup.Escape(r.InputPath)}",
                    _ => null,
                }), cancel), cancel,
                summary => $"aligned [grey]({summary.Processed / Math.Max(1e-3, summary.Elapsed.TotalSeconds):F1} img/s)[/]");

            var table = new Table().AddColumns("images", "processed", "aligned", "skipped (already done)", "no face", "failed", "time");
            table.AddRow(s.Total.ToString(), s.Processed.ToString(), $"[green]{s.Aligned}[/]", s.Skipped.ToString(),
                s.NoFace > 0 ? $"[yellow]{s.NoFace}[/]" : "0", s.Failed > 0 ? $"[red]{s.Failed}[/]" : "0", $"{s.Elapsed.TotalSeconds:F1} s");
            ctx.Console.Write(table);
            ctx.Console.MarkupLineInterpolated($"Bounding boxes: {s.BoundingBoxesFile}");
            if (s.Cancelled) ctx.Console.MarkupLine("[yellow]cancelled: run the same command again to continue[/]");
            return Task.FromResult(s.Failed > 0 || s.Cancelled ? 1 : 0);
        });
        return cmd;
    }
}
