using System.CommandLine;
using FaceNetSharp.Detection;

namespace FaceNetSharp.Cli.Options;

/// <summary>The MTCNN flags shared by detect and align (facenet's defaults).</summary>
internal sealed class MtcnnCliOptions
{
    private readonly Option<double> _minSize = new("--min-face-size", "--minsize") { Description = "Smallest face in pixels (facenet: 20)", DefaultValueFactory = _ => 20 };
    private readonly Option<double[]> _thresholds = new("--thresholds") { Description = "P-Net, R-Net, O-Net score thresholds (facenet: 0.6 0.7 0.7)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [0.6, 0.7, 0.7] };
    private readonly Option<double> _factor = new("--scale-factor") { Description = "Pyramid scale factor (facenet: 0.709)", DefaultValueFactory = _ => 0.709 };
    private readonly Option<MtcnnResampling> _resampling = new("--resampling") { Description = "Area (OpenCV INTER_AREA, facenet) or PilBox (PIL's BOX filter)", DefaultValueFactory = _ => MtcnnResampling.Area };

    public static MtcnnCliOptions Create() => new();

    /// <summary>The same flags, with <paramref name="minFaceSizeDefault"/> telling --help how the command chooses the smallest face when not given.</summary>
    public static MtcnnCliOptions Create(string minFaceSizeDefault)
    {
        var o = new MtcnnCliOptions();
        o._minSize.Description = $"Smallest face in pixels (default: {minFaceSizeDefault})";
        o._minSize.DefaultValueFactory = null; // --help shows the description's default, not facenet's 20
        return o;
    }

    public void AddTo(Command cmd)
    {
        cmd.Add(_minSize);
        cmd.Add(_thresholds);
        cmd.Add(_factor);
        cmd.Add(_resampling);
    }

    /// <summary>True when --min-face-size was given on the command line (not its default).</summary>
    public bool MinFaceSizeGiven(ParseResult parse) => parse.GetResult(_minSize) is { Implicit: false };

    public MtcnnOptions Read(ParseResult parse)
    {
        var t = parse.GetValue(_thresholds)!;
        if (t.Length != 3) throw new ArgumentException("--thresholds takes three values (P-Net R-Net O-Net), e.g. --thresholds 0.6 0.7 0.7");
        return new MtcnnOptions
        {
            MinFaceSize = MinFaceSizeGiven(parse) ? parse.GetValue(_minSize) : new MtcnnOptions().MinFaceSize,
            PNetThreshold = t[0],
            RNetThreshold = t[1],
            ONetThreshold = t[2],
            ScaleFactor = parse.GetValue(_factor),
            Resampling = parse.GetValue(_resampling),
        };
    }
}
