using System.CommandLine;
using FaceNetSharp.Cli.Commands;
using FaceNetSharp.Embedding;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli.Options;

/// <summary>Opening the recognizer from <see cref="ModelOption"/>, shared by gallery, classify and cluster.</summary>
internal static class RecognizerCliOptions
{
    /// <summary>Opens MTCNN and the embedder (installing missing default models, with the install log on the console).</summary>
    public static FaceRecognizer Open(CliContext ctx, ParseResult parse, Option<string> model, MtcnnCliOptions mtcnn) =>
        FaceRecognizer.Open(parse.GetValue(model)!, parse.GetValue(CliApp.ModelsDir), mtcnn.Read(parse),
            new EmbedderOptions { Precision = CliApp.EmbeddingPrecisionOf(parse) }, DetectCommand.ModelsLog(ctx));

    /// <summary>The model's size, metric and threshold without loading it (for commands that only read a file).</summary>
    public static EmbedderInfo Info(ParseResult parse, Option<string> model) => Embedders.Describe(parse.GetValue(model)!);

    /// <summary>
    /// Embeds many files with a progress bar (as <c>facenet align</c> shows one), printing a line for each file that
    /// failed or had no face; the batch goes on.
    /// </summary>
    public static IReadOnlyList<PhotoFaces> EmbedWithProgress(CliContext ctx, FaceRecognizer recognizer, IReadOnlyList<string> paths,
        FaceInput input, bool largestOnly, int workers, string what, CancellationToken cancel)
    {
        return CliProgress.RunPolled(ctx, what, paths.Count, itemDone => PhotoEmbedding.EmbedMany(recognizer, paths, input, largestOnly,
            Math.Max(1, workers), r => itemDone(ProblemLine(r)), cancel), cancel);
    }

    /// <summary>Prints why a file gave no face (red for an unreadable file, yellow for no face); true when it has faces.</summary>
    public static bool ReportProblem(CliContext ctx, PhotoFaces photo)
    {
        if (ProblemLine(photo) is not { } line) return true;
        ctx.Console.MarkupLine(line);
        return false;
    }

    /// <summary>The markup line saying why a file gave no face, or null when it has faces.</summary>
    private static string? ProblemLine(PhotoFaces photo) => photo.Outcome switch
    {
        PhotoOutcome.Failed => CliProgress.Failed(Markup.Escape(photo.Error ?? "")),
        PhotoOutcome.NoFace => $"[yellow]no face:[/] {Markup.Escape(photo.Path)}",
        _ => null,
    };
}
