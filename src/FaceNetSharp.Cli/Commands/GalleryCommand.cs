using System.CommandLine;
using System.Text.Json;
using FaceNetSharp.Cluster;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet gallery add|identify|list|remove|export|import|check</c>: a persistent gallery of enrolled people in one
/// SQLite file (<see cref="FaceGallery"/>), bound to the embedding model it was built with.
/// </summary>
internal static class GalleryCommand
{
    /// <summary><c>--cluster CONN</c> (or $FACENET_CLUSTER): the commands work on a cluster gallery instead of a file.</summary>
    private static readonly Option<string?> Cluster = SiloCommand.ClusterOption();

    public static Command Create(CliContext ctx)
    {
        var galleryPath = new Option<string?>("--gallery")
        {
            Description = "Gallery file (default: $XDG_DATA_HOME/facenetsharp/gallery.db, else ~/.local/share/facenetsharp/gallery.db)",
            Recursive = true,
        };
        var model = ModelOption.Create();
        model.Recursive = true;
        var cmd = new Command("gallery", "Enrol people and identify faces against a persistent gallery (SQLite)") { galleryPath, model, Cluster };
        cmd.Add(Add(ctx, galleryPath, model));
        cmd.Add(Identify(ctx, galleryPath, model));
        cmd.Add(List(ctx, galleryPath, model));
        cmd.Add(Check(ctx, galleryPath, model));
        cmd.Add(Remove(ctx, galleryPath, model));
        cmd.Add(Export(ctx, galleryPath, model));
        cmd.Add(Import(ctx, galleryPath, model));
        cmd.Add(GalleryEvaluateCommand.Create(ctx, model));
        return cmd;
    }

    /// <summary>$XDG_DATA_HOME/facenetsharp/gallery.db when the variable is set, else ~/.local/share/facenetsharp/gallery.db (the XDG default).</summary>
    public static string DefaultGalleryPath()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        var dataHome = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(dataHome, "facenetsharp", "gallery.db");
    }

    private static Command Add(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var name = new Argument<string>("NAME") { Description = "The person's name" };
        var images = CliApp.Files("IMAGE", "Photos of the person (the largest face of each is enrolled)");
        var lowRes = new Option<string?>("--low-res")
        {
            Description = "Also store each face shrunk to these face widths in pixels, e.g. 24,48 (source marked FILE@24px): " +
                "small faces in video then meet a gallery face of their size. Opt-in: low-resolution probes may match " +
                "more easily, and the --fpir operating points were measured on full-size photos",
        };
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("add", "Enrol a person from photos") { name, images, lowRes };
        mtcnn.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var person = parse.GetValue(name)!;
            if (string.IsNullOrWhiteSpace(person)) throw new ArgumentException("NAME must not be blank");
            var widths = parse.GetValue(lowRes) is { } text ? LowResolutionEnrolment.ParseWidths(text) : [];
            using var recognizer = RecognizerCliOptions.Open(ctx, parse, model, mtcnn);
            using var gallery = OpenGallery(ctx, parse, galleryPath, recognizer.Model);
            var vectors = new List<(float[], string?)>();
            int problems = 0;
            foreach (var file in parse.GetValue(images)!)
            {
                var photo = PhotoEmbedding.Embed(recognizer, file, FaceInput.Detect, largestOnly: true);
                if (!RecognizerCliOptions.ReportProblem(ctx, photo)) { problems++; continue; }
                var face = photo.Largest!;
                var source = Path.GetFullPath(file);
                vectors.Add((face.Vector, source));
                var shrunk = widths.Count == 0 ? []
                    : LowResolutionEnrolment.Embed(recognizer, ImageLoader.Load(file), face.Face!, widths);
                foreach (var (px, v) in shrunk) vectors.Add((v, LowResolutionEnrolment.Source(source, px)));
                var extra = shrunk.Count == 0 ? "" : $" (+ shrunk to {string.Join(", ", shrunk.Select(s => $"{s.FaceWidth} px"))})";
                ctx.Console.MarkupLineInterpolated($"[green]enrolled[/] {file}{extra}");
                if (shrunk.Count < widths.Count)
                    ctx.Console.MarkupLineInterpolated($"[grey]{file}: face {face.Face!.Box.Width:F0} px wide; not shrunk to {string.Join(", ", widths.Where(w => w >= face.Face!.Box.Width))} px[/]");
            }
            int added = gallery.AddFaces(person, vectors);
            ctx.Console.MarkupLineInterpolated($"{person}: {added} face(s) added to {gallery.Location}");
            return problems == 0 ? 0 : 1;
        });
        return cmd;
    }

    private static Command Identify(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var images = CliApp.Files("IMAGE", "Photos; every face of each is identified");
        var top = new Option<int>("--top") { Description = "Candidates per face, nearest first", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print JSON: [{file, error?, threshold, operating_point, faces: [{box, name, distance, known, candidates: [{name, distance}]}]}]" };
        var threshold = new Option<float?>("--threshold") { Description = "Distance at or above which a face is unknown (overrides --fpir and --far)" };
        var rates = new IdentificationCliOptions(threshold);
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("identify", "Name the faces of photos from the gallery (\"unknown\" at or above a threshold chosen for --fpir at the gallery's size)") { images, top, json };
        rates.AddTo(cmd);
        mtcnn.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            int k = parse.GetValue(top);
            if (k < 1) throw new ArgumentException("--top must be at least 1");
            bool asJson = parse.GetValue(json);
            var c = ctx.ForDocument(asJson); // with --json, stdout is the JSON alone
            using var recognizer = RecognizerCliOptions.Open(c, parse, model, mtcnn);
            using var gallery = OpenGallery(c, parse, galleryPath, recognizer.Model);
            var choice = rates.Read(parse, recognizer.Model, IdentificationThreshold.Comparisons(gallery.PeopleCount));
            float limit = choice.Threshold;
            string operatingPoint = choice.Describe();
            if (gallery.FaceCount == 0) c.Console.MarkupLineInterpolated($"[yellow]the gallery {gallery.Location} is empty: every face is unknown[/]");
            var results = new List<object>();
            int problems = 0;
            foreach (var file in parse.GetValue(images)!)
            {
                var photo = PhotoEmbedding.Embed(recognizer, file, FaceInput.Detect, largestOnly: false);
                if (!RecognizerCliOptions.ReportProblem(c, photo))
                {
                    problems++;
                    results.Add(new { file, error = photo.Error ?? "no face found", threshold = limit, operating_point = operatingPoint, faces = Array.Empty<object>() });
                    continue;
                }
                var table = new Table().AddColumns("face", "box x1,y1,x2,y2", "answer", "distance", "candidates");
                var faces = new List<object>();
                foreach (var face in photo.Faces)
                {
                    var matches = gallery.Identify(face.Vector, k, limit);
                    var best = matches.Count > 0 ? matches[0] : null;
                    var answer = best is { IsKnown: true } ? best.Person : "unknown";
                    var box = face.Face!.Box;
                    faces.Add(new
                    {
                        box = new[] { box.X1, box.Y1, box.X2, box.Y2 },
                        name = answer,
                        distance = best?.Distance,
                        known = best?.IsKnown ?? false,
                        candidates = matches.Select(m => new { name = m.Person, distance = m.Distance }).ToArray(),
                    });
                    table.AddRow(
                        face.Index.ToString(),
                        $"{box.X1:F0}, {box.Y1:F0}, {box.X2:F0}, {box.Y2:F0}",
                        best is { IsKnown: true } ? $"[green]{Markup.Escape(answer)}[/]" : "[yellow]unknown[/]",
                        best is null ? "-" : best.Distance.ToString("F3"),
                        Markup.Escape(string.Join(", ", matches.Select(m => $"{m.Person} {m.Distance:F3}"))));
                }
                results.Add(new { file, threshold = limit, operating_point = operatingPoint, faces });
                if (!asJson)
                {
                    c.Console.MarkupLineInterpolated($"[bold]{file}[/]: {photo.Faces.Count} face(s)");
                    c.Console.Write(table);
                }
            }
            if (asJson) c.Out.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            else c.Console.MarkupLineInterpolated($"[grey]{operatingPoint} ({EmbeddingMetrics.Name(gallery.Metric)} distance, model {gallery.ModelId})[/]");
            return problems == 0 ? 0 : 1;
        });
        return cmd;
    }

    private static Command List(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var cmd = new Command("list", "List the enrolled people and their numbers of faces");
        cmd.SetAction(parse =>
        {
            using var gallery = OpenGallery(ctx, parse, galleryPath, RecognizerCliOptions.Info(parse, model));
            var people = gallery.List();
            var table = new Table().AddColumns("person", "faces");
            foreach (var p in people) table.AddRow(Markup.Escape(p.Name), p.FaceCount.ToString());
            ctx.Console.Write(table);
            int faces = people.Sum(p => p.FaceCount);
            ctx.Console.MarkupLineInterpolated($"{people.Count} {(people.Count == 1 ? "person" : "people")}, {faces} {(faces == 1 ? "face" : "faces")} in {gallery.Location} (model {gallery.ModelId})");
            return 0;
        });
        return cmd;
    }

    private static Command Remove(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var name = new Argument<string>("NAME") { Description = "The person to remove, with all their faces" };
        var cmd = new Command("remove", "Remove a person and their faces") { name };
        cmd.SetAction(parse =>
        {
            using var gallery = OpenGallery(ctx, parse, galleryPath, RecognizerCliOptions.Info(parse, model));
            var person = parse.GetValue(name)!;
            if (gallery.Remove(person))
            {
                ctx.Console.MarkupLineInterpolated($"removed {person}");
                return 0;
            }
            ctx.Console.MarkupLineInterpolated($"[yellow]{person} is not in the gallery[/]");
            return 1;
        });
        return cmd;
    }

    private static Command Export(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var file = new Argument<string>("FILE") { Description = "JSON file to write (model, people, their faces' vectors)" };
        var cmd = new Command("export", "Write the whole gallery as JSON") { file };
        cmd.SetAction(parse =>
        {
            using var gallery = OpenGallery(ctx, parse, galleryPath, RecognizerCliOptions.Info(parse, model));
            var path = parse.GetValue(file)!;
            gallery.Export(path);
            ctx.Console.MarkupLineInterpolated($"exported {gallery.List().Count} people to {path}");
            return 0;
        });
        return cmd;
    }

    private static Command Import(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var file = new Argument<string>("FILE") { Description = "JSON file written by gallery export (same model)" };
        var cmd = new Command("import", "Add the people and faces of an exported gallery") { file };
        cmd.SetAction(parse =>
        {
            using var gallery = OpenGallery(ctx, parse, galleryPath, RecognizerCliOptions.Info(parse, model));
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found");
            int added = gallery.Import(path);
            ctx.Console.MarkupLineInterpolated($"imported {added} face(s) into {gallery.Location}");
            return 0;
        });
        return cmd;
    }

    private static Command Check(CliContext ctx, Option<string?> galleryPath, Option<string> model)
    {
        var drop = new Option<bool>("--drop") { Description = "Delete the damaged faces (in one transaction); their people keep their other faces" };
        var cmd = new Command("check", "List faces whose stored vectors are damaged (wrong length, NaN or infinity, not unit length), and optionally drop them") { drop };
        cmd.SetAction(parse =>
        {
            if (SiloCommand.ClusterConnection(parse, Cluster) is not null)
                throw new ArgumentException("gallery check reads a gallery file; a cluster's PostgreSQL refuses damaged vectors' rows only at load (the shard skips them)");
            using var gallery = OpenFile(ctx, parse, galleryPath, RecognizerCliOptions.Info(parse, model), warn: false);
            bool dropping = parse.GetValue(drop);
            var problems = dropping ? gallery.DropDamagedFaces() : gallery.CheckFaces();
            if (problems.Count == 0)
            {
                ctx.Console.MarkupLineInterpolated($"{gallery.FilePath}: {gallery.FaceCount} faces, none damaged");
                return 0;
            }
            var table = new Table().AddColumns("face id", "person", "problem");
            foreach (var p in problems) table.AddRow(p.FaceId.ToString(), Markup.Escape(p.Person), Markup.Escape(p.Problem));
            ctx.Console.Write(table);
            if (dropping)
            {
                ctx.Console.MarkupLineInterpolated($"dropped {problems.Count} damaged face(s) from {gallery.FilePath}; {gallery.FaceCount} faces left");
                return 0;
            }
            ctx.Console.MarkupLineInterpolated($"[red]{problems.Count} damaged face(s)[/] in {gallery.FilePath}: identify leaves them out; '{DropCommand(gallery.FilePath)}' deletes them");
            return 1;
        });
        return cmd;
    }

    /// <summary>
    /// Opens the gallery file; with <paramref name="warn"/>, faces whose stored vectors are damaged (left out of the
    /// search) are reported by person and face id, with the command that deletes them.
    /// </summary>
    private static IFaceGallery OpenGallery(CliContext ctx, ParseResult parse, Option<string?> galleryPath, EmbedderInfo info)
    {
        if (SiloCommand.ClusterConnection(parse, Cluster) is not { } cluster) return OpenFile(ctx, parse, galleryPath, info);
        if (parse.GetValue(galleryPath) is not null) throw new ArgumentException("give --gallery FILE or --cluster CONN, not both");
        return ClusterGallery.Open(cluster, info.Name, info.Dimensions, info.Metric);
    }

    private static FaceGallery OpenFile(CliContext ctx, ParseResult parse, Option<string?> galleryPath, EmbedderInfo info, bool warn = true)
    {
        var gallery = FaceGallery.Open(parse.GetValue(galleryPath) ?? DefaultGalleryPath(), info.Name, info.Dimensions, info.Metric);
        if (warn) WarnDamaged(ctx, gallery.FilePath, gallery.DamagedFaces);
        return gallery;
    }

    /// <summary>A warning naming the damaged faces of a gallery (the first ten), and how to drop them; nothing when there are none.</summary>
    private static void WarnDamaged(CliContext ctx, string file, IReadOnlyList<GalleryFaceProblem> damaged)
    {
        if (damaged.Count == 0) return;
        // a warning, not a result: stderr, whether stdout is a table or JSON
        var errors = ctx.Errors;
        errors.MarkupLineInterpolated($"[yellow]warning:[/] {file}: {damaged.Count} damaged face(s) left out of the search:");
        foreach (var p in damaged.Take(10)) errors.MarkupLineInterpolated($"  face {p.FaceId} of '{p.Person}': {p.Problem}");
        if (damaged.Count > 10) errors.MarkupLineInterpolated($"  and {damaged.Count - 10} more");
        errors.MarkupLineInterpolated($"  '{DropCommand(file)}' deletes them");
    }

    /// <summary>The command that drops the damaged faces of <paramref name="file"/> (naming it unless it is the default gallery).</summary>
    private static string DropCommand(string file) =>
        Path.GetFullPath(file) == Path.GetFullPath(DefaultGalleryPath()) ? "facenet gallery check --drop" : $"facenet gallery check --drop --gallery {file}";

}
