using System.CommandLine;
using FaceNetSharp.Alignment;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Embedding;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet embed INPUT_DIR --out FILE</c>: one embedding per image of a folder tree (<c>Class/image</c>; the class
/// folder is the label), written as .npy (+ <c>.labels.txt</c>), .csv or .jsonl by the output's extension. Photos are
/// detected and aligned on the fly (largest face); <c>--aligned</c> takes chips as they are. The output is replaced
/// atomically, so a re-run is safe; unreadable files and photos without a face are reported and left out.
/// </summary>
internal static class EmbedCommand
{
    public static Command Create(CliContext ctx)
    {
        var input = new Argument<string>("INPUT_DIR") { Description = "Folder of class folders with images (Name/Name_0001.jpg); files in the root get an empty label" };
        var output = new Option<string>("--out", "-o") { Description = "Output file: .npy (float32, with NAME.labels.txt beside it), .csv or .jsonl", Required = true };
        var aligned = new Option<bool>("--aligned") { Description = "The images are chips already aligned for the model (facenet align --mode similarity): no detection" };
        var batch = new Option<int>("--batch-size") { Description = "Images per embedder call", DefaultValueFactory = _ => 64 };
        var embedder = EmbedderCliOptions.Create();
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("embed", "Write the embedding of every image of a folder tree to .npy, .csv or .jsonl")
        {
            input, output, aligned, batch,
        };
        embedder.AddTo(cmd);
        mtcnn.AddTo(cmd);
        cmd.SetAction((parse, cancel) =>
        {
            var outPath = parse.GetValue(output)!;
            EmbeddingFile.FormatOf(outPath); // an unknown extension fails before any work
            var inputDir = Path.GetFullPath(parse.GetValue(input)!);
            int batchSize = parse.GetValue(batch);
            if (batchSize < 1) throw new ArgumentException("--batch-size must be at least 1");
            var unreadable = new List<string>();
            var inputs = DatasetAligner.ListInputs(inputDir, unreadable.Add);
            // the labels files of a previous .npy run, bounding_boxes_*.txt of align, and the like are not images
            inputs.RemoveAll(i => Path.GetExtension(i.Path).Equals(".txt", StringComparison.OrdinalIgnoreCase));
            if (inputs.Count == 0) // before models load, and nothing is written
                throw new ArgumentException($"no images found under {inputDir}{(unreadable.Count > 0 ? $" ({unreadable.Count} class folders could not be listed)" : "")}");
            foreach (var problem in unreadable) ctx.Errors.MarkupLineInterpolated($"[red]failed:[/] {problem} (left out)");
            using var recognizer = embedder.Open(parse, ctx, mtcnn.Read(parse), batchSize);
            var info = recognizer.Model;
            var fileEmbedder = new ImageFileEmbedder(recognizer, new ImageFileEmbedderOptions { Aligned = parse.GetValue(aligned), BatchSize = batchSize });
            ctx.Console.MarkupLineInterpolated($"Embedding {inputs.Count} images of {inputDir} with {info.Name} ({info.Dimensions}-d{(embedder.Flip(parse) ? ", with flipped copies" : "")})");

            IReadOnlyList<FileEmbedding> results = [];
            int failed = unreadable.Count, noFace = 0, wrongSize = 0;
            var started = DateTime.UtcNow;
            ctx.Console.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask("embedding", maxValue: Math.Max(1, inputs.Count));
                    results = fileEmbedder.Embed(inputs.Select(i => i.Path).ToList(), r =>
                    {
                        task.Increment(1);
                        if (r.Outcome is FileEmbeddingOutcome.Failed or FileEmbeddingOutcome.WrongSize)
                        {
                            failed++;
                            if (r.Outcome == FileEmbeddingOutcome.WrongSize) wrongSize++;
                            ctx.Console.MarkupLineInterpolated($"[red]failed:[/] {r.Error}");
                        }
                        else if (r.Outcome == FileEmbeddingOutcome.NoFace)
                        {
                            noFace++;
                            ctx.Console.MarkupLineInterpolated($"[yellow]no face:[/] {r.Path}");
                        }
                        else if (r.FaceCount > 1)
                        {
                            ctx.Console.MarkupLineInterpolated($"[grey]{r.Path}: {r.FaceCount} faces, using the largest[/]");
                        }
                    }, cancel);
                    var rate = inputs.Count / Math.Max(1e-3, (DateTime.UtcNow - started).TotalSeconds);
                    task.Description = $"embedded [grey]({rate:F1} img/s)[/]";
                    task.Value = task.MaxValue;
                });
            if (wrongSize > 0)
                ctx.Console.MarkupLineInterpolated(
                    $"[yellow]{wrongSize} chips have the wrong size:[/] make them with 'facenet align IN OUT --mode similarity --template {info.Template.ToString().ToLowerInvariant()}', or leave out --aligned to align photos on the fly");

            var rows = results.Select((r, k) => (r, k)).Where(x => x.r.Vector is not null)
                .Select(x => new LabelledEmbedding(Path.GetRelativePath(inputDir, x.r.Path).Replace('\\', '/'), inputs[x.k].Class, x.r.Vector!))
                .ToList();
            var written = EmbeddingFile.Write(outPath, rows);
            var table = new Table().AddColumns("images", "embedded", "no face", "failed", "dimensions", "written");
            table.AddRow(inputs.Count.ToString(), $"[green]{rows.Count}[/]", noFace > 0 ? $"[yellow]{noFace}[/]" : "0",
                failed > 0 ? $"[red]{failed}[/]" : "0", info.Dimensions.ToString(), Markup.Escape(string.Join(", ", written)));
            ctx.Console.Write(table);
            return Task.FromResult(failed > 0 ? 1 : 0);
        });
        return cmd;
    }
}
