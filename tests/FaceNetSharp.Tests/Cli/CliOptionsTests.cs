using System.CommandLine;
using FaceNetSharp.Cli;
using Spectre.Console.Testing;

namespace FaceNetSharp.Tests.Cli;

/// <summary>Issue 12, the design review: the shared flags are defined once, so every command shows the same one.</summary>
public sealed class CliOptionsTests
{
    private static IEnumerable<(string Path, Command Command)> Commands(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var c in Commands(sub, path + " " + sub.Name))
                yield return c;
    }

    [Fact]
    public void Every_model_flag_has_the_same_description_and_default()
    {
        var root = CliApp.Build(new CliContext(new TestConsole(), new StringWriter()));
        var models = Commands(root, "facenet")
            .SelectMany(c => c.Command.Options.Where(o => o.Name == "--model").Select(o => (c.Path, Option: (Option<string>)o)))
            .ToList();
        // compare, validate, embed, serve, classify train/predict, gallery add/identify/..., cluster
        Assert.True(models.Count >= 8, $"only {models.Count} commands have --model: {string.Join(", ", models.Select(m => m.Path))}");
        var first = models[0];
        foreach (var (path, option) in models)
        {
            Assert.True(option.Description == first.Option.Description,
                $"'{path} --model' says \"{option.Description}\", '{first.Path} --model' says \"{first.Option.Description}\"");
            Assert.Equal("mobilefacenet", option.GetDefaultValue());
        }
    }

    [Theory]
    [InlineData("detect", "MTCNN runs in float32")]
    [InlineData("align", "MTCNN runs in float32")]
    [InlineData("silo", "a silo searches the vectors its clients send")]
    public void Precision_on_a_command_that_embeds_nothing_is_a_usage_error_not_ignored(string command, string why)
    {
        // --precision is one recursive option; before, 'facenet detect --precision int8 x.jpg' ran in float32 silently.
        var run = CliRunner.Run(command, "--precision", "int8", "no-such-input");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--precision applies to the commands that embed faces; '{command}' does not ({why})", run.Console);
        Assert.Equal("", run.Out);
    }
}
