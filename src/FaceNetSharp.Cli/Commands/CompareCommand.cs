using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Embedding;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>Output formats of <c>facenet compare</c>.</summary>
internal enum CompareFormat
{
    Table,
    Csv,
    Json,
}

/// <summary>
/// <c>facenet compare IMAGE...</c>: facenet's compare.py. Detects the faces of each photo, aligns the largest onto the
/// model's template, embeds it, and prints the N x N distance matrix and a same/different verdict per pair (distance
/// below the model's threshold = same person). Photos without a face, and unreadable files, are reported and left out
/// (exit code 1).
/// </summary>
internal static class CompareCommand
{
    public static Command Create(CliContext ctx)
    {
        var images = CliApp.Files("IMAGE", "Photos, one face each (the largest face is used)");
        var format = new Option<CompareFormat>("--format") { Description = "table (people), csv or json (machines: stdout holds the document alone, a file left out is listed with its error)", DefaultValueFactory = _ => CompareFormat.Table };
        var embedder = EmbedderCliOptions.Create();
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("compare", "Distance matrix and same/different verdicts of the faces of several photos (facenet's compare.py)")
        {
            images, format,
        };
        embedder.AddTo(cmd);
        mtcnn.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var files = parse.GetValue(images)!;
            var fmt = parse.GetValue(format);
            var c = ctx.ForDocument(fmt != CompareFormat.Table); // json and csv: stdout is the document alone
            using var recognizer = embedder.Open(parse, c, mtcnn.Read(parse));
            var info = recognizer.Model;
            var results = new ImageFileEmbedder(recognizer).Embed(files);

            var used = new List<FileEmbedding>();
            foreach (var r in results)
            {
                switch (r.Outcome)
                {
                    case FileEmbeddingOutcome.Failed or FileEmbeddingOutcome.WrongSize:
                        c.Errors.MarkupLineInterpolated($"[red]error:[/] {r.Error} (left out)");
                        break;
                    case FileEmbeddingOutcome.NoFace:
                        c.Console.MarkupLineInterpolated($"[yellow]no face found in {r.Path}[/] (left out)");
                        break;
                    default:
                        if (r.FaceCount > 1)
                            c.Console.MarkupLineInterpolated($"[grey]{r.Path}: {r.FaceCount} faces, using the largest[/]");
                        used.Add(r);
                        break;
                }
            }
            var distances = used.Select(a => used.Select(b => recognizer.Distance(a.Vector!, b.Vector!)).ToArray()).ToArray();
            var leftOut = results.Where(r => r.Vector is null)
                .Select(r => (File: r.Path, Error: r.Outcome == FileEmbeddingOutcome.NoFace ? "no face found" : r.Error ?? "failed")).ToList();
            switch (fmt)
            {
                case CompareFormat.Json:
                    c.Out.WriteLine(JsonSerializer.Serialize(new
                    {
                        model = info.Name,
                        metric = EmbeddingMetrics.Name(info.Metric),
                        threshold = info.Threshold,
                        files = used.Select(u => u.Path).ToArray(),
                        distances,
                        left_out = leftOut.Select(l => new { file = l.File, error = l.Error }).ToArray(),
                    }, new JsonSerializerOptions { WriteIndented = true }));
                    break;
                case CompareFormat.Csv:
                    // the distance matrix, then one row per file left out, its distances empty and the cause in "error"
                    c.Out.WriteLine(string.Join(",", ["file", .. used.Select(u => EmbeddingFile.CsvField(u.Path)), "error"]));
                    for (int i = 0; i < used.Count; i++)
                        c.Out.WriteLine(string.Join(",", [EmbeddingFile.CsvField(used[i].Path),
                            .. distances[i].Select(d => d.ToString("R", CultureInfo.InvariantCulture)), ""]));
                    foreach (var l in leftOut)
                        c.Out.WriteLine(string.Join(",", [EmbeddingFile.CsvField(l.File), .. used.Select(_ => ""), EmbeddingFile.CsvField(l.Error)]));
                    break;
                default:
                    RenderTable(c, info, used, distances);
                    break;
            }
            return used.Count == results.Count ? 0 : 1;
        });
        return cmd;
    }

    private static void RenderTable(CliContext ctx, EmbedderInfo info, List<FileEmbedding> used, float[][] distances)
    {
        ctx.Console.MarkupLineInterpolated($"Model {info.Name}, {info.Metric} distance; same person below {info.Threshold:F2}");
        if (used.Count == 0) return;
        ctx.Console.WriteLine("Images:");
        for (int i = 0; i < used.Count; i++) ctx.Console.MarkupLineInterpolated($"{i}: {used[i].Path}");
        var table = new Table().AddColumn("");
        for (int j = 0; j < used.Count; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int i = 0; i < used.Count; i++)
        {
            var row = new List<string> { i.ToString(CultureInfo.InvariantCulture) };
            for (int j = 0; j < used.Count; j++)
            {
                var d = distances[i][j].ToString("F4", CultureInfo.InvariantCulture);
                row.Add(i != j && distances[i][j] < info.Threshold ? $"[green]{d}[/]" : d);
            }
            table.AddRow(row.ToArray());
        }
        ctx.Console.Write(table);
        for (int i = 0; i < used.Count; i++)
        {
            for (int j = i + 1; j < used.Count; j++)
            {
                bool same = distances[i][j] < info.Threshold;
                var verdict = same ? "[green]same person[/]" : "[red]different people[/]";
                ctx.Console.MarkupLine($"{i} vs {j}: {distances[i][j].ToString("F4", CultureInfo.InvariantCulture)} {verdict}  " +
                    $"[grey]({Markup.Escape(Path.GetFileName(used[i].Path))} / {Markup.Escape(Path.GetFileName(used[j].Path))})[/]");
            }
        }
    }
}
