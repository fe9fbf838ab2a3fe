using System.CommandLine;

namespace FaceNetSharp.Cli.Options;

/// <summary>
/// <c>--model</c>, the embedding model, the same flag for every command that embeds (each command gets its own
/// instance: System.CommandLine options belong to one command).
/// </summary>
internal static class ModelOption
{
    /// <summary>The embedder used when <c>--model</c> is not given.</summary>
    public const string Default = "mobilefacenet";

    /// <summary>A new <c>--model</c> option.</summary>
    public static Option<string> Create() => new("--model")
    {
        Description = "Embedding model: mobilefacenet, dlib, or the path of an .onnx model with its .card.json",
        DefaultValueFactory = _ => Default,
    };
}
