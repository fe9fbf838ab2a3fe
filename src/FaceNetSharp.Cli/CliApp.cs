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
/// machine-readable output (JSON, CSV) that must never be wrapped or coloured, and <see cref="Error"/> (stderr) for
/// errors; without one, errors go to <see cref="Console"/> (the in-process tests read both as one).
/// </summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Out, IAnsiConsole? Error = null)
{
    /// <summary>Where error lines go: stderr in the real program.</summary>
    public IAnsiConsole Errors => Error ?? Console;

    /// <summary>
    /// The context of a command about to write a document (JSON, CSV) to <see cref="Out"/>: everything for people
    /// (errors, warnings, model logs, progress) goes to stderr, so that stdout is the document alone and parses.
    /// </summary>
    public CliContext ForDocument(bool writesDocument) => writesDocument ? this with { Console = Errors } : this;
}

/// <summary>Values of <c>--precision</c>.</summary>
internal enum CliPrecision
{
    /// <summary>float32.</summary>
    Fp32,

    /// <summary>int8.</summary>
    Int8,
}

/// <summary>Builds the <c>facenet</c> command tree; each command lives in its own file under Commands/.</summary>
internal static class CliApp
{
    /// <summary>Model cache folder, for every command (default: <see cref="ModelStore.DefaultDirectory"/>).</summary>
    public static readonly Option<string?> ModelsDir = new("--models-dir")
    {
        Description = "Folder of installed models (default: $FACENETSHARP_MODELS_DIR, else the XDG cache folder)",
        Recursive = true,
    };

    /// <summary>Errors print their exception with its stack trace, for a bug report (otherwise one line).</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "On an error, also print the exception with its stack trace",
        Recursive = true,
    };

    /// <summary>Float32 or int8 embedders, for every command that embeds faces.</summary>
    public static readonly Option<CliPrecision> Precision = new("--precision")
    {
        Description = "Embedder arithmetic for the commands that embed faces (embed, compare, validate, gallery, classify, cluster, serve, video): " +
                      "fp32, or int8 (a quantized copy of the model made on first use: about 2x faster, within the loss its card records)",
        DefaultValueFactory = _ => CliPrecision.Fp32,
        Recursive = true,
    };

    /// <summary>The <see cref="EmbeddingPrecision"/> that <c>--precision</c> asks for.</summary>
    public static EmbeddingPrecision EmbeddingPrecisionOf(ParseResult parse) =>
        parse.GetValue(Precision) == CliPrecision.Int8 ? EmbeddingPrecision.Int8 : EmbeddingPrecision.Float32;

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("facenet: face detection, alignment, verification and recognition (davidsandberg/facenet in C#)")
        {
            ModelsDir,
            Verbose,
            Precision,
        };
        var models = ModelsCommand.Create(context);
        models.Add(TrainingAddOn.Placeholder("import", "Convert a PyTorch state dict to an ONNX embedder with a card (training add-on)", context));
        root.Add(models);
        root.Add(TrainingAddOn.Placeholder("train", "Train an embedder on TorchSharp and export it as ONNX (training add-on: facenet-train)", context));
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
        root.Add(SiloCommand.Create(context));
        root.Add(VideoCommand.Create(context));
        // --precision is recursive (one option for every embedding command), so detect, align and silo would take it
        // too and run as before: say so instead of ignoring it (MTCNN and the silos' search have no int8 form here).
        foreach (var (name, why) in (ReadOnlySpan<(string, string)>)[
                     ("detect", "MTCNN runs in float32"), ("align", "MTCNN runs in float32"),
                     ("silo", "a silo searches the vectors its clients send")])
        {
            root.Subcommands.Single(c => c.Name == name).Validators.Add(r =>
            {
                if (r.GetResult(Precision) is { Implicit: false })
                    r.AddError($"--precision applies to the commands that embed faces; '{name}' does not ({why})");
            });
        }
        return root;
    }

    /// <summary>
    /// Parses and runs. A usage error, an unusable input or any other failure becomes a line or two on stderr naming
    /// the file and the cause, and exit code 2 (a stack trace only with <c>--verbose</c>); a batch command returns 1
    /// itself when some of its items failed.
    /// </summary>
    public static int Run(string[] args, CliContext context) => Run(args, context, Build);

    /// <summary>
    /// Errors of other assemblies that name their file and cause and so print as one line without the exception's type
    /// (the training add-on's dataset and learning-rate schedule errors).
    /// </summary>
    internal static Func<Exception, bool>? OneLineErrors { get; set; }

    /// <summary>As <see cref="Run(string[], CliContext)"/> with another command tree (the training add-on's).</summary>
    internal static int Run(string[] args, CliContext context, Func<CliContext, RootCommand> build)
    {
        // The program installs what a command needs on first use (npm pack, SHA-256, conversion); the library never does.
        ModelStore.DefaultInstaller ??= ModelInstaller.Instance;
        ModelStore.DefaultInt8Maker ??= FaceNetSharp.Models.Quantization.Int8Models.Maker;
        // facenet train / facenet models import: run by the training add-on, a program of its own (libtorch stays out)
        if (build == Build && TrainingAddOn.Handles(args)) return TrainingAddOn.Run(args, context);
        var root = build(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0)
            return ReportUsageErrors(parse, context);
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                // Ctrl-C / SIGTERM cancel the action's token; training needs up to a batch to stop cleanly and say how to resume
                ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            });
        }
        catch (Exception e)
        {
            return ReportError(e, context, parse.GetValue(Verbose));
        }
    }

    /// <summary>System.CommandLine's parse errors (unknown options, missing arguments), one line each, exit code 2.</summary>
    private static int ReportUsageErrors(ParseResult parse, CliContext context)
    {
        foreach (var error in parse.Errors)
            context.Errors.MarkupLineInterpolated($"[red]error:[/] {error.Message}");
        var path = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            path.Insert(0, c.Command is RootCommand ? "facenet" : c.Command.Name);
        context.Errors.MarkupLineInterpolated($"see '{string.Join(' ', path)} --help' for the options");
        return 2;
    }

    private static int ReportError(Exception thrown, CliContext context, bool verbose)
    {
        var e = Unwrap(thrown);
        var console = context.Errors;
        int code = 2;
        switch (e)
        {
            case OperationCanceledException:
                console.MarkupLine("[yellow]cancelled[/]");
                code = 130; // 128 + SIGINT, as shells report an interrupted program
                break;
            case EmbeddingModelMismatchException m:
            {
                // a gallery or classifier file of another model (gallery, classify, serve): say which --model opens it
                var builtIn = Embedders.BuiltIn.FirstOrDefault(kv => kv.Value.Name == m.StoredModelId).Key;
                console.MarkupLineInterpolated($"[red]error:[/] {m.Message}");
                if (builtIn is null) console.MarkupLineInterpolated($"use --model with the model '{m.StoredModelId}', or another file");
                else console.MarkupLineInterpolated($"use --model {builtIn}, or another file");
                break;
            }
            case ModelInstallException m:
                console.MarkupLineInterpolated($"[red]error:[/] {m.Message}");
                if (RepairHint(m) is { } hint) console.MarkupLineInterpolated($"{hint}");
                break;
            case ImageLoadException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
                // an execution provider the installed ONNX Runtime lacks (InferenceOptions): the message says what to install
                or NotSupportedException
                // files that name themselves and the line: pairs files, training data folders, learning-rate schedules
                or FaceNetSharp.Evaluation.LfwPairsFormatException
                // a video input or output that cannot be used: names it and says why
                or FaceNetSharp.Video.VideoException:
            case var _ when OneLineErrors?.Invoke(e) == true:
                console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                break;
            default:
                // not an expected failure (a bug, or a failure of the machine): still one line, with what it was
                console.MarkupLineInterpolated($"[red]error:[/] {e.Message} [grey]({e.GetType().Name}{(verbose ? "" : "; run again with --verbose for the stack trace")})[/]");
                break;
        }
        if (verbose) console.WriteLine(thrown.ToString());
        return code;
    }

    /// <summary>
    /// The command that puts a model right, for the library's <see cref="ModelInstallException"/> (which says what is
    /// wrong, not what to run): installing again for a catalogued model, else re-creating the file. Null when none fits.
    /// </summary>
    internal static string? RepairHint(ModelInstallException e)
    {
        if (e.Problem == ModelProblem.Other || e.ModelPath is null) return null;
        string dir = e.Problem == ModelProblem.NotInstalled ? e.ModelPath : Path.GetDirectoryName(Path.GetFullPath(e.ModelPath))!;
        var inStore = string.Equals(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar),
            Path.GetFullPath(ModelStore.DefaultDirectory).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal) ? "" : $" --models-dir {dir}";
        var name = Path.GetFileNameWithoutExtension(e.ModelPath);
        if (name.EndsWith(".card", StringComparison.Ordinal)) name = name[..^".card".Length];
        bool catalogued = e.Problem == ModelProblem.NotInstalled || ModelNames.All.Contains(name);
        return (e.Problem, catalogued) switch
        {
            (ModelProblem.NotInstalled, _) => $"install them with 'facenet models install{inStore}'",
            (ModelProblem.FileMissing, true) => $"install it with 'facenet models install{inStore}' (or pass --models-dir)",
            (_, true) => $"repair it with 'facenet models install --force{inStore}'",
            (_, false) => "restore the file, or make it again ('facenet train export' or 'facenet models import') so that it matches its card",
        };
    }

    /// <summary>The exception a worker thread threw, out of the AggregateException a task wraps it in.</summary>
    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: > 0 } a:
                    e = a.Flatten().InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    /// <summary>
    /// A variadic file argument (IMAGE...) that refuses a token looking like an option (a leading '-') unless a file
    /// of that name exists: System.CommandLine gives such a token to the argument as a value, so a typo such as
    /// <c>--formt json</c> would otherwise become two missing image files.
    /// </summary>
    public static Argument<string[]> Files(string name, string description)
    {
        var argument = new Argument<string[]>(name) { Description = description, Arity = ArgumentArity.OneOrMore };
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length < 2 || token.Value[0] != '-' || File.Exists(token.Value) || Directory.Exists(token.Value)) continue;
                var known = result.Parent is System.CommandLine.Parsing.CommandResult c
                    ? c.Command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).ToList()
                    : [];
                var nearest = known.MinBy(name => EditDistance(name, token.Value));
                var hint = nearest is not null && EditDistance(nearest, token.Value) <= 2 ? $"did you mean {nearest}? " : "";
                result.AddError($"unknown option '{token.Value}' ({hint}for a file whose name starts with '-', write ./{token.Value})");
            }
        });
        return argument;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), for "did you mean".</summary>
    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    public static ModelStore Store(ParseResult parse) => new(parse.GetValue(ModelsDir));
}
