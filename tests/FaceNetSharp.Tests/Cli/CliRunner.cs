using FaceNetSharp.Cli;
using Spectre.Console.Testing;

namespace FaceNetSharp.Tests.Cli;

/// <summary>Runs the <c>facenet</c> command line in-process, capturing what people see and what machines read.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Console, string Out);

    public static Result Run(params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400; // no wrapping of long paths in assertions
        var output = new StringWriter();
        int code = CliApp.Run(args, new CliContext(console, output));
        return new Result(code, console.Output, output.ToString());
    }
}
