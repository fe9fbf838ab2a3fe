using System.CommandLine;
using FaceNetSharp.Cli.Commands;
using FaceNetSharp.Embedding;

namespace FaceNetSharp.Cli.Options;

/// <summary>The embedder flags shared by compare, validate and embed: <c>--model</c> and <c>--flip</c>.</summary>
internal sealed class EmbedderCliOptions
{
    private readonly Option<string> _model = ModelOption.Create();
    private readonly Option<bool> _flip = new("--flip", "--use_flipped_images") { Description = "Also embed the mirrored face and add the two vectors (facenet --use_flipped_images)" };

    public static EmbedderCliOptions Create() => new();

    public void AddTo(Command cmd)
    {
        cmd.Add(_model);
        cmd.Add(_flip);
    }

    public string Model(ParseResult parse) => parse.GetValue(_model)!;

    public bool Flip(ParseResult parse) => parse.GetValue(_flip);

    /// <summary>The detector and the chosen embedder (installed first when missing).</summary>
    public FaceRecognizer Open(ParseResult parse, CliContext ctx, Detection.MtcnnOptions detection, int? batchSize = null) =>
        FaceRecognizer.Open(Model(parse), CliApp.Store(parse).Directory, detection,
            new EmbedderOptions { FlipAugmentation = Flip(parse), BatchSize = batchSize ?? new EmbedderOptions().BatchSize, Precision = CliApp.EmbeddingPrecisionOf(parse) },
            DetectCommand.ModelsLog(ctx));
}
