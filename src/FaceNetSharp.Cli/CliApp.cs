using System.CommandLine;
using FaceNetSharp.Cli.Commands;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
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
        catch (Exception e) when (e is ModelInstallException or ImageLoadException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException)
        {
            context.Console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }

    public static ModelStore Store(ParseResult parse) => new(parse.GetValue(ModelsDir));
}
