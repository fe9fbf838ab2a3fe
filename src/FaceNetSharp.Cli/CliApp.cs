using System.CommandLine;
using FaceNetSharp.Cli.Commands;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Recognition;
using Spectre.Console;

namespace FaceNetSharp.Cli;

/// <summary>
/// Where the commands write: <see cref="Console"/> for people (tables, progress, colour), <see cref="Out"/> for
/// machine-readable output (JSON, CSV) that must never be wrapped or coloured.
/// </summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Out);

/// <summary>Builds the <c>facenet</c> command tree; each command lives in its own file under Commands/.</summary>
internal static class CliApp
{
    /// <summary>Model cache folder, for every command (default: <see cref="ModelStore.DefaultDirectory"/>).</summary>
    public static readonly Option<string?> ModelsDir = new("--models-dir")
    {
        Description = "Folder of installed models (default: $FACENETSHARP_MODELS_DIR, else the XDG cache folder)",
        Recursive = true,
    };

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("facenet: face detection, alignment, verification and recognition (davidsandberg/facenet in C#)")
        {
            ModelsDir,
        };
        var models = ModelsCommand.Create(context);
        models.Add(TrainCommand.CreateImport(context));
        root.Add(models);
        root.Add(TrainCommand.Create(context));
        root.Add(DetectCommand.Create(context));
        root.Add(AlignCommand.Create(context));
        root.Add(DemoCommand.Create(context));
        root.Add(ServeCommand.Create(context));
        root.Add(CompareCommand.Create(context));
        root.Add(ValidateCommand.Create(context));
        root.Add(EmbedCommand.Create(context));
        root.Add(ClassifyCommand.Create(context));
        root.Add(GalleryCommand.Create(context));
        root.Add(ClusterCommand.Create(context));
        return root;
    }

    /// <summary>Parses and runs; expected failures become one red line and exit code 2.</summary>
    public static int Run(string[] args, CliContext context)
    {
        var root = Build(context);
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                // Ctrl-C / SIGTERM cancel the action's token; training needs up to a batch to stop cleanly and say how to resume
                ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            });
        }
        catch (Exception e) when (e is ModelInstallException or ImageLoadException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
            // files that name themselves and the line: pairs files, training data folders, learning-rate schedules
            or FaceNetSharp.Evaluation.LfwPairsFormatException or FaceNetSharp.Training.Data.DatasetException
            or FaceNetSharp.Training.Training.LearningRateScheduleException)
        {
            context.Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
        catch (EmbeddingModelMismatchException e)
        {
            // a gallery or classifier file of another model (gallery, classify, serve): say which --model opens it
            var builtIn = Embedders.BuiltIn.FirstOrDefault(kv => kv.Value.Name == e.StoredModelId).Key;
            context.Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            if (builtIn is null) context.Console.MarkupLineInterpolated($"use --model with the model '{e.StoredModelId}', or another file");
            else context.Console.MarkupLineInterpolated($"use --model {builtIn}, or another file");
            return 2;
        }
    }

    public static ModelStore Store(ParseResult parse) => new(parse.GetValue(ModelsDir));
}
