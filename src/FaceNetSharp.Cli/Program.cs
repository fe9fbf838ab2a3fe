using FaceNetSharp.Cli;
using Spectre.Console;

return CliApp.Run(args, new CliContext(AnsiConsole.Console, Console.Out));
