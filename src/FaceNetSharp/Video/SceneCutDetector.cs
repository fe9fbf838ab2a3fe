namespace FaceNetSharp.Video;

/// <summary>
/// Finds scene cuts (hard cuts between shots) in a stream of RGB24 frames: the colour histogram of each frame, taken
/// on a coarse grid of cell means, against the previous frame's. A cut changes the whole picture's colours at once;
/// motion within a shot moves the same colours about and changes the histogram little. Gradual transitions (fades,
/// dissolves) spread the change over many frames and are not found. One instance per video, fed every frame in order.
/// </summary>
/// <remarks>
/// Measured (<c>SceneCutDetectorTests</c>, which prints every frame's value): on short_hamilton_clip.mp4 (640x360,
/// 275 frames) the three cuts (frames 20, 82, 211) measure 0.214, 0.367 and 0.158, and no other frame more than 0.047
/// (frame 22, the camera moving just after the cut at 20); on facenet-pytorch's video.mp4 (1920x1080, 105 frames, a
/// crowd walking towards the camera, one shot) no frame more than 0.040. <see cref="DefaultThreshold"/> sits between
/// them. Cost: 0.6 ms a frame at 640x360, 1.6 ms at 1080p (at most 128 x 72 x 16 pixels read), on the decoder's thread.
/// </remarks>
public sealed class SceneCutDetector
{
    /// <summary>
    /// The histogram distance (half the L1 distance of the normalised histograms: the share of the picture whose
    /// colour changed bins, 0..1) at or above which a frame starts a new shot. 0.09: between the largest value measured
    /// within a shot (0.047) and the smallest at a cut (0.158) on the two test clips, about 1.8 times from each (see the remarks).
    /// </summary>
    public const double DefaultThreshold = 0.09;

    /// <summary>Cells across and down the grid whose mean colours are counted (fewer when the frame is smaller).</summary>
    private const int GridColumns = 128, GridRows = 72;

    /// <summary>Pixels averaged per cell, across and down, evenly spread (all of them when the cell is smaller): the cell's
    /// mean colour without reading every pixel of a 1080p frame (15x15 pixels a cell there).</summary>
    private const int SamplesPerCellSide = 4;

    /// <summary>Levels per colour channel: 8 x 8 x 8 = 512 bins.</summary>
    private const int Levels = 8;

    private readonly int _width, _height, _columns, _rows;
    private readonly double _threshold;
    private double[] _previous, _current;
    private bool _first = true;

    /// <summary>A detector for <paramref name="width"/> x <paramref name="height"/> RGB24 frames.</summary>
    public SceneCutDetector(int width, int height, double threshold = DefaultThreshold)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height}: the frame must be at least 1x1");
        if (!(threshold is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "must be in (0, 1]");
        _width = width;
        _height = height;
        _columns = Math.Min(GridColumns, width);
        _rows = Math.Min(GridRows, height);
        _threshold = threshold;
        _previous = new double[Levels * Levels * Levels];
        _current = new double[Levels * Levels * Levels];
    }

    /// <summary>The threshold in use (see <see cref="DefaultThreshold"/>).</summary>
    public double Threshold => _threshold;

    /// <summary>The last frame's distance to the one before (0 for the first frame).</summary>
    public double LastDistance { get; private set; }

    /// <summary>
    /// Takes the next frame (packed RGB24, <c>width * height * 3</c> bytes) and answers whether it starts a new shot:
    /// its histogram distance to the previous frame's is at or above the threshold. The first frame is not a cut.
    /// </summary>
    public bool Next(ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length < _width * _height * 3) throw new ArgumentException($"a {_width}x{_height} RGB24 frame is {_width * _height * 3} bytes; got {rgb.Length}", nameof(rgb));
        Array.Clear(_current);
        for (int r = 0; r < _rows; r++)
        {
            int y0 = r * _height / _rows, y1 = (r + 1) * _height / _rows;
            int ny = Math.Min(SamplesPerCellSide, y1 - y0);
            for (int c = 0; c < _columns; c++)
            {
                int x0 = c * _width / _columns, x1 = (c + 1) * _width / _columns;
                int nx = Math.Min(SamplesPerCellSide, x1 - x0);
                int sr = 0, sg = 0, sb = 0;
                for (int j = 0; j < ny; j++)
                {
                    int y = y0 + (2 * j + 1) * (y1 - y0) / (2 * ny);
                    for (int i = 0; i < nx; i++)
                    {
                        int x = x0 + (2 * i + 1) * (x1 - x0) / (2 * nx);
                        int p = 3 * (y * _width + x);
                        sr += rgb[p];
                        sg += rgb[p + 1];
                        sb += rgb[p + 2];
                    }
                }
                int n = nx * ny;
                int bin = (sr / n * Levels >> 8) * Levels * Levels + (sg / n * Levels >> 8) * Levels + (sb / n * Levels >> 8);
                _current[bin]++;
            }
        }
        double cells = _columns * _rows, distance = 0;
        for (int b = 0; b < _current.Length; b++) distance += Math.Abs(_current[b] - _previous[b]);
        distance = _first ? 0 : distance / (2 * cells);
        _first = false;
        (_previous, _current) = (_current, _previous);
        LastDistance = distance;
        return distance >= _threshold;
    }
}
