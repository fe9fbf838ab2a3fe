using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace FaceNetSharp.Cli;

/// <summary>
/// <c>facenet train ...</c> and <c>facenet models import ...</c> are run by the training add-on, <c>facenet-train</c>
/// (the tool FaceNetSharp.Training.Cli: TorchSharp and libtorch, about 1 GB), a program of its own, so that the
/// <c>facenet</c> tool installs without libtorch. This finds the add-on and runs it with the same arguments and the
/// same standard streams, or says in two lines how to install it (exit code 2).
/// </summary>
internal static class TrainingAddOn
{
    /// <summary>The add-on's command name, as <c>dotnet tool install</c> puts it beside <c>facenet</c>.</summary>
    public const string CommandName = "facenet-train";

    /// <summary>Its package.</summary>
    public const string PackageId = "FaceNetSharp.Training.Cli";

    /// <summary>Names the add-on's program (its apphost or its .dll) explicitly, before any search.</summary>
    public const string Variable = "FACENETSHARP_TRAINING_ADDON";

    /// <summary>A command of the tree for <c>facenet --help</c>; never run (<see cref="Handles"/> takes its arguments first).</summary>
    public static Command Placeholder(string name, string description, CliContext ctx)
    {
        var rest = new Argument<string[]>("ARGS") { Arity = ArgumentArity.ZeroOrMore, Description = $"Arguments of '{CommandName}'" };
        var command = new Command(name, description) { rest };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(_ => NotInstalled(ctx));
        return command;
    }

    /// <summary>
    /// True when the command of <paramref name="args"/> is <c>train</c> or <c>models import</c> (after the global
    /// options <c>--models-dir DIR</c> and <c>--verbose</c>, which the add-on takes too).
    /// </summary>
    public static bool Handles(string[] args)
    {
        var commands = new List<string>();
        for (int i = 0; i < args.Length && commands.Count < 2; i++)
        {
            var a = args[i];
            if (a == "--models-dir") { i++; continue; }
            if (a.StartsWith("--models-dir=", StringComparison.Ordinal) || a == "--verbose") continue;
            if (a.StartsWith('-')) break;
            commands.Add(a);
        }
        return commands is ["train", ..] || commands is ["models", "import"];
    }

    /// <summary>Runs the add-on with <paramref name="args"/>; its exit code, or 2 with the install line when it is not installed.</summary>
    public static int Run(string[] args, CliContext ctx)
    {
        var program = Find();
        if (program is null) return NotInstalled(ctx);
        var psi = program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new ProcessStartInfo(DotnetHost()) { ArgumentList = { program } }
            : new ProcessStartInfo(program);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.UseShellExecute = false;
        using var child = Process.Start(psi) ?? throw new IOException($"could not start {program}");
        // Ctrl-C reaches both processes (one process group) and the add-on stops after its batch: this one waits for it.
        // A SIGTERM sent to this process alone is passed on, so that a run stopped by a supervisor saves as it does on Ctrl-C.
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            if (!OperatingSystem.IsWindows()) _ = Kill(child.Id, 15);
        });
        child.WaitForExit();
        return child.ExitCode;
    }

    private static int NotInstalled(CliContext ctx)
    {
        ctx.Errors.MarkupLineInterpolated($"[red]error:[/] training runs in the add-on '{CommandName}' (TorchSharp and libtorch, about 1 GB), which is not installed");
        ctx.Errors.MarkupLineInterpolated($"install it with 'dotnet tool install -g {PackageId}' (or with --tool-path beside facenet), then run the same command again");
        return 2;
    }

    /// <summary>
    /// <c>$FACENETSHARP_TRAINING_ADDON</c>; else <c>facenet-train</c> beside this program's executable (a tool install
    /// puts both commands in one folder); else on the PATH; else in <c>~/.dotnet/tools</c>; else, in a build of the
    /// repository, the add-on project's own build output. Null when none exists.
    /// </summary>
    internal static string? Find()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } named)
            return File.Exists(named) ? Path.GetFullPath(named) : null;
        var exe = OperatingSystem.IsWindows() ? CommandName + ".exe" : CommandName;
        var candidates = new List<string>();
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) != "dotnet")
            candidates.Add(Path.Combine(Path.GetDirectoryName(self)!, exe));
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            candidates.Add(Path.Combine(dir, exe));
        candidates.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", exe));
        // src/FaceNetSharp.Cli/bin/CONFIG/net10.0/ -> src/FaceNetSharp.Training.Cli/bin/CONFIG/net10.0/facenet-train.dll
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        if (here.Parent?.Parent?.Parent?.Parent is { } src && here.Parent.Parent.Name == "bin" && here.Parent.Parent.Parent.Name == "FaceNetSharp.Cli")
            candidates.Add(Path.Combine(src.FullName, "FaceNetSharp.Training.Cli", "bin", here.Parent.Name, here.Name, CommandName + ".dll"));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>The dotnet host running this program, else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
