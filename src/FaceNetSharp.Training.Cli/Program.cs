using System.CommandLine;
using FaceNetSharp.Cli;
using FaceNetSharp.Training.Cli;
using Spectre.Console;

// facenet-train: the training add-on. `facenet train ...` and `facenet models import ...` run this program with the
// same arguments; it can be run directly too (facenet-train train softmax ...). Output set up as facenet's Program.cs.
if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 400;
var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsErrorRedirected) stderr.Profile.Width = 400;
CliApp.OneLineErrors = e => e is FaceNetSharp.Training.Data.DatasetException or FaceNetSharp.Training.Runs.LearningRateScheduleException;
return CliApp.Run(args, new CliContext(AnsiConsole.Console, Console.Out, stderr), ctx =>
{
    var root = new RootCommand("facenet-train: the training add-on of facenet (TorchSharp, libtorch CPU)") { CliApp.ModelsDir, CliApp.Verbose };
    root.Add(new Command("models", "Models made from other frameworks' weights") { TrainCommand.CreateImport(ctx) });
    root.Add(TrainCommand.Create(ctx));
    return root;
});
