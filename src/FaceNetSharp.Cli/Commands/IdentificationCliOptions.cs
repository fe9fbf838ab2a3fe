using System.CommandLine;
using FaceNetSharp.Embedding;
using FaceNetSharp.Recognition;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>--fpir</c>, <c>--far</c> and an explicit threshold: how gallery identify and classify predict choose the
/// distance below which a face is named (<see cref="IdentificationThreshold"/>).
/// </summary>
internal sealed class IdentificationCliOptions
{
    private readonly Option<double?> _fpir = new("--fpir")
    {
        Description = $"False-positive identification rate to keep: the share of strangers that may be named as someone; the threshold " +
                      $"follows the gallery's size (default {IdentificationThreshold.DefaultFpir:0.##%})",
    };

    private readonly Option<double?> _far = new("--far") { Description = "False-accept rate per comparison instead of --fpir, whatever the gallery's size" };

    private readonly Option<float?> _threshold;

    /// <summary>The <c>--fpir</c> option.</summary>
    public Option<double?> FpirOption => _fpir;

    /// <summary>The <c>--far</c> option.</summary>
    public Option<double?> FarOption => _far;

    public IdentificationCliOptions(Option<float?> threshold) => _threshold = threshold;

    public void AddTo(Command cmd)
    {
        cmd.Add(_fpir);
        cmd.Add(_far);
        if (!cmd.Options.Contains(_threshold)) cmd.Add(_threshold);
    }

    /// <summary>The threshold for <paramref name="comparisons"/> enrolled faces, from the flags given.</summary>
    public ThresholdChoice Read(ParseResult parse, EmbedderInfo model, int comparisons) =>
        IdentificationThreshold.Choose(model, comparisons, parse.GetValue(_threshold), parse.GetValue(_far), parse.GetValue(_fpir));

    /// <summary>The FPIR asked for (or the default), for commands that derive thresholds themselves.</summary>
    public double Fpir(ParseResult parse)
    {
        var fpir = parse.GetValue(_fpir) ?? IdentificationThreshold.DefaultFpir;
        if (fpir is not (> 0 and < 1)) throw new ArgumentException($"--fpir must be between 0 and 1 (exclusive); got {fpir}");
        return fpir;
    }
}
