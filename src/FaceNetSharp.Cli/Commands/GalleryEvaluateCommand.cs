using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet gallery evaluate DATA_DIR</c>: open-set identification measured on the user's own labelled folder
/// (<see cref="OpenSetEvaluation"/>): in each seeded draw some people are held out as strangers and the others have
/// <c>--enrol</c> photos enrolled; every other photo is identified. Reports FPIR, FNIR and DIR at several thresholds,
/// the default one among them, and suggests a threshold for <c>--fpir</c>. Nothing is written to the gallery file.
/// </summary>
internal static class GalleryEvaluateCommand
{
    public static Command Create(CliContext ctx, Option<string> model)
    {
        var data = new Argument<string>("DATA_DIR") { Description = "Folder of people: Name/*.jpg (photos, or chips with --aligned), at least two people" };
        var enrol = new Option<int>("--enrol") { Description = "Photos enrolled per person (people with fewer are only ever strangers)", DefaultValueFactory = _ => 5 };
        var holdOut = new Option<double>("--hold-out") { Description = "Share of the people held out of the gallery as strangers in each draw", DefaultValueFactory = _ => 0.5 };
        var draws = new Option<int>("--draws") { Description = "Random draws of strangers and enrolled photos", DefaultValueFactory = _ => 5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the draws", DefaultValueFactory = _ => 666 };
        var aligned = new Option<bool>("--aligned") { Description = "The images are aligned face chips: embed them as they are instead of detecting faces" };
        var json = new Option<bool>("--json") { Description = "Print JSON: {model, metric, searches, default, suggested, rows: [{threshold, label, fpir, fnir, dir, ...}]}" };
        var workers = new Option<int>("--workers") { Description = "Images processed at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var fpirOption = new Option<double?>("--fpir")
        {
            Description = $"The false-positive identification rate the default threshold targets and the suggestion keeps (default {IdentificationThreshold.DefaultFpir:0.##%})",
        };
        var mtcnn = MtcnnCliOptions.Create();
        var cmd = new Command("evaluate", "Measure open-set identification on a labelled folder (enrol some people, hold others out as strangers): FPIR, FNIR, DIR and a suggested threshold")
        {
            data, enrol, holdOut, draws, seed, aligned, fpirOption, json, workers,
        };
        mtcnn.AddTo(cmd);
        cmd.SetAction((parse, cancel) =>
        {
            var options = new OpenSetOptions
            {
                Enrol = parse.GetValue(enrol),
                HoldOut = parse.GetValue(holdOut),
                Draws = parse.GetValue(draws),
                Seed = parse.GetValue(seed),
            };
            double fpir = parse.GetValue(fpirOption) ?? IdentificationThreshold.DefaultFpir;
            if (fpir is not (> 0 and < 1)) throw new ArgumentException($"--fpir must be between 0 and 1 (exclusive); got {fpir}");
            if (options.Enrol < 1) throw new ArgumentException("--enrol must be at least 1");
            if (options.HoldOut is < 0 or >= 1 || double.IsNaN(options.HoldOut)) throw new ArgumentException("--hold-out must be at least 0 and below 1");
            if (options.Draws < 1) throw new ArgumentException("--draws must be at least 1");
            // An unreadable person folder is left out and said so on stderr (as are unreadable images, while embedding);
            // the rest is still measured, and the exit code is then 1.
            int unreadableFolders = 0;
            var classes = FaceDataset.Load(parse.GetValue(data)!, problem =>
            {
                unreadableFolders++;
                ctx.Errors.MarkupLineInterpolated($"[red]failed:[/] {problem} (left out)");
            }).Where(c => c.ImagePaths.Count > 0).ToList();
            if (classes.Count < 2) throw new ArgumentException($"{parse.GetValue(data)}: needs at least two people (subfolders with images); found {classes.Count}");

            bool asJson = parse.GetValue(json);
            var doc = ctx.ForDocument(asJson); // with --json, stdout is the JSON alone: progress and per-file lines go to stderr
            using var recognizer = RecognizerCliOptions.Open(doc, parse, model, mtcnn);
            var info = recognizer.Model;
            var metric = info.Metric;
            var paths = classes.SelectMany(c => c.ImagePaths).ToList();
            var labels = classes.SelectMany(c => c.ImagePaths.Select(_ => c.Name)).ToList();
            var input = parse.GetValue(aligned) ? FaceInput.Aligned : FaceInput.Detect;
            doc.Console.MarkupLineInterpolated($"{classes.Count} people, {paths.Count} images");
            var photos = RecognizerCliOptions.EmbedWithProgress(doc, recognizer, paths, input, largestOnly: true,
                Math.Max(1, parse.GetValue(workers)), "embedding", cancel);
            var faces = photos.Select((p, i) => (p, Label: labels[i])).Where(x => x.p.Largest is not null)
                .Select(x => (x.Label, x.p.Largest!.Vector)).ToList();
            int failed = photos.Count(p => p.Outcome == PhotoOutcome.Failed);
            int withoutFace = photos.Count - faces.Count - failed;
            int exitCode = failed == 0 && unreadableFolders == 0 ? 0 : 1;

            var result = OpenSetEvaluation.Run(faces, metric, options);
            // The default: each draw's own gallery size decides its threshold, as gallery identify would.
            ThresholdChoice ChoiceFor(OpenSetDraw d) => IdentificationThreshold.Choose(info, IdentificationThreshold.Comparisons(d.EnrolledPeople), fpir: fpir);
            var first = ChoiceFor(result[0]);
            var rows = new List<(string Label, OpenSetRates Rates)>
            {
                ($"default: {first.Describe()}", OpenSetEvaluation.At(result, d => ChoiceFor(d).Threshold, first.Threshold)),
                ("the model's 1:1 same-person threshold", OpenSetEvaluation.At(result, info.Threshold)),
            };
            var suggested = OpenSetEvaluation.Suggest(result, fpir);
            if (suggested is { } s) rows.Add(($"suggested: the largest with FPIR <= {fpir:0.###%} here", OpenSetEvaluation.At(result, s)));
            foreach (var target in new[] { 0.001, 0.005, 0.02, 0.05 })
                if (target != fpir && OpenSetEvaluation.Suggest(result, target) is { } t)
                    rows.Add(($"largest with FPIR <= {target:0.###%} here", OpenSetEvaluation.At(result, t)));
            rows = [.. rows.OrderBy(r => r.Rates.Threshold)];

            var pooled = rows[0].Rates;
            var c = CultureInfo.InvariantCulture;
            if (asJson)
            {
                var report = new
                {
                    model = info.Name,
                    metric = EmbeddingMetrics.Name(metric),
                    people = classes.Count,
                    images = paths.Count,
                    without_face = withoutFace,
                    unreadable_images = failed,
                    unreadable_folders = unreadableFolders,
                    enrol = options.Enrol,
                    hold_out = options.HoldOut,
                    draws = options.Draws,
                    seed = options.Seed,
                    enrolled_people = result.Select(d => d.EnrolledPeople).ToArray(),
                    enrolled_faces = result.Select(d => d.EnrolledFaces).ToArray(),
                    mated_searches = pooled.MatedSearches,
                    non_mated_searches = pooled.NonMatedSearches,
                    fpir_target = fpir,
                    default_threshold = first.Threshold,
                    default_operating_point = first.Describe(),
                    suggested_threshold = suggested,
                    rows = rows.Select(r => new
                    {
                        threshold = r.Rates.Threshold,
                        label = r.Label,
                        fpir = Finite(r.Rates.Fpir),
                        fnir = Finite(r.Rates.Fnir),
                        dir = Finite(r.Rates.Dir),
                        false_positives = r.Rates.FalsePositives,
                        misses = r.Rates.Misses,
                        wrong_names = r.Rates.WrongNames,
                    }).ToArray(),
                };
                ctx.Out.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
                return Task.FromResult(exitCode);
            }

            ctx.Console.MarkupLineInterpolated(
                $"{options.Draws} draws (seed {options.Seed}): {result[0].EnrolledPeople} people enrolled with {options.Enrol} photos each, {result[0].Strangers} held out as strangers; {pooled.MatedSearches} searches of enrolled people, {pooled.NonMatedSearches} of strangers ({withoutFace} images without a face{(failed + unreadableFolders > 0 ? $", {failed} unreadable images and {unreadableFolders} unreadable folders left out" : "")})");
            var table = new Table().AddColumns("threshold", "", "FPIR (strangers named)", "FNIR (enrolled not named right)", "DIR", "wrong names");
            foreach (var (label, r) in rows)
                table.AddRow(r.Threshold.ToString("F3", c), Markup.Escape(label), Rate(r.Fpir, r.FalsePositives, r.NonMatedSearches),
                    Rate(r.Fnir, r.Misses, r.MatedSearches), double.IsNaN(r.Dir) ? "-" : r.Dir.ToString("P1", c), r.WrongNames.ToString(c));
            ctx.Console.Write(table);
            if (suggested is { } sug)
            {
                var at = OpenSetEvaluation.At(result, sug);
                ctx.Console.MarkupLineInterpolated(
                    $"suggested: --threshold {sug.ToString("F3", c)} (FPIR {at.Fpir.ToString("P2", c)}, FNIR {at.Fnir.ToString("P2", c)} on this data)");
                if (pooled.NonMatedSearches * fpir < 10)
                    ctx.Console.MarkupLineInterpolated(
                        $"[yellow]only {pooled.NonMatedSearches} stranger searches: too few to measure an FPIR of {fpir:0.###%} (more people or --draws narrow it)[/]");
            }
            else
            {
                ctx.Console.MarkupLine("[yellow]no strangers to measure FPIR with: use --hold-out above 0 and at least two people[/]");
            }
            return Task.FromResult(exitCode);
        });
        return cmd;
    }

    private static double? Finite(double x) => double.IsNaN(x) ? null : x;

    private static string Rate(double rate, int count, int of) =>
        double.IsNaN(rate) ? "-" : $"{rate.ToString("P2", CultureInfo.InvariantCulture)} ({count}/{of})";
}
