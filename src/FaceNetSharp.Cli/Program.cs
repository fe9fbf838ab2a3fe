using FaceNetSharp.Cli;
using Spectre.Console;

// Piped or redirected output (logs, CI): no wrapping at 80 columns, so paths and the commands printed for copying
// (e.g. "facenet train softmax --resume DIR") stay on one line. No table here expands to the full width.
if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 400;
// Errors, and everything for people while a command writes JSON or CSV to stdout, go to stderr.
var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsErrorRedirected) stderr.Profile.Width = 400;
return CliApp.Run(args, new CliContext(AnsiConsole.Console, Console.Out, stderr));
