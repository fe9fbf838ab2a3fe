using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Video;

/// <summary>
/// Decodes a video file, a camera (<c>/dev/videoN</c>, through v4l2) or a stream URL (<c>rtsp://</c>, <c>http(s)://</c>)
/// into packed RGB24 frames: an <c>ffmpeg</c> process writes raw frames to its stdout pipe and this reads them, one
/// frame's bytes at a time. No frame ever touches the disk.
/// </summary>
/// <remarks>
/// Raw pipes rather than FFMpegCore (6.0.0), chosen by reading its source, not by measurement: its pipes carry the same
/// raw frames, through a unix-domain socket (NamedPipeServerStream) instead of the process's stdout; its encoder input
/// is a pull <c>IEnumerable&lt;IVideoFrame&gt;</c> that this push pipeline would feed through a blocking enumerator; and
/// on the decoding side it hands over a Stream whose frames this code would split itself anyway. It would add a
/// dependency and a socket and take away no code. The frame size and rate come from ffmpeg's own stderr (its
/// <c>Output #0</c> stream line, i.e. after autorotation), so a camera is opened once.
/// Every decoded frame is delivered (<c>-fps_mode passthrough</c>): ffmpeg's default for raw output would duplicate
/// and drop frames to a constant rate.
/// </remarks>
public sealed partial class VideoReader : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdout;
    private readonly StderrLog _log;
    private readonly Timer? _watchdog;
    private readonly TimeSpan _stallTimeout;
    private long _lastProgressTicks;
    private volatile string? _stallReason;
    private volatile bool _inRead;
    private bool _ended;
    private bool _disposed;

    private VideoReader(string input, Process process, StderrLog log, VideoHeader header, TimeSpan stallTimeout)
    {
        Input = input;
        _process = process;
        _stdout = process.StandardOutput.BaseStream;
        _log = log;
        Width = header.Width;
        Height = header.Height;
        FramesPerSecond = header.Fps;
        EstimatedFrameCount = header.Duration is { } d && header.Fps > 0 ? (long)Math.Round(d.TotalSeconds * header.Fps) : null;
        IsLive = IsCamera(input) || IsUrl(input);
        _stallTimeout = stallTimeout;
        _lastProgressTicks = Environment.TickCount64;
        if (stallTimeout > TimeSpan.Zero)
            _watchdog = new Timer(_ => CheckStall(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The path, device or URL as given.</summary>
    public string Input { get; }

    /// <summary>Frame width in pixels (after the container's rotation is applied).</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; }

    /// <summary>The stream's frame rate as ffmpeg reports it (e.g. 29.97); 0 when it reports none.</summary>
    public double FramesPerSecond { get; }

    /// <summary>Duration x rate for a file (for a progress bar; the real count may differ by a frame or two); null for a
    /// camera or a stream of unknown length.</summary>
    public long? EstimatedFrameCount { get; }

    /// <summary>True for a camera or a URL: a source without a known end.</summary>
    public bool IsLive { get; }

    /// <summary>Bytes in one frame: <c>Width * Height * 3</c>.</summary>
    public int FrameBytes => Width * Height * 3;

    /// <summary>Frames read so far.</summary>
    public long FramesRead { get; private set; }

    /// <summary>
    /// After <see cref="Read(Span{byte})"/> returned false: null when the input ended normally, otherwise one line saying why it
    /// stopped (the stream dropped, ffmpeg's decode error, no frame for the stall timeout).
    /// </summary>
    public string? Error { get; private set; }

    /// <summary>True for <c>/dev/video*</c>-style device paths (opened through v4l2).</summary>
    public static bool IsCamera(string input) => input.StartsWith("/dev/video", StringComparison.Ordinal);

    /// <summary>True for a URL ffmpeg opens itself (rtsp, rtmp, http, https, udp, tcp, ...).</summary>
    public static bool IsUrl(string input) => UrlScheme().IsMatch(input);

    /// <summary>
    /// Starts ffmpeg on <paramref name="input"/> and waits for it to report the video stream. Throws
    /// <see cref="VideoException"/> (message: the input and ffmpeg's reason, one line) when ffmpeg is missing, the file
    /// does not exist or is not a video, the camera does not exist, or the stream cannot be opened within
    /// <paramref name="openTimeout"/> (default 20 s). <paramref name="stallTimeout"/> (default 10 s; zero for none)
    /// ends a source that delivers no frame for that long, with <see cref="Error"/> saying so.
    /// </summary>
    public static VideoReader Open(string input, TimeSpan? openTimeout = null, TimeSpan? stallTimeout = null)
    {
        var ffmpeg = Ffmpeg.Require(input);
        bool camera = IsCamera(input), url = IsUrl(input);
        if (!camera && !url)
        {
            if (Directory.Exists(input)) throw new VideoException(input, "is a folder, not a video");
            if (!File.Exists(input)) throw new VideoException(input, "no such file");
        }
        else if (camera && !File.Exists(input))
            throw new VideoException(input, "no such camera (device does not exist)");

        var psi = Ffmpeg.StartInfo(ffmpeg);
        var args = psi.ArgumentList;
        foreach (var a in new[] { "-hide_banner", "-nostats", "-loglevel", "info" }) args.Add(a);
        if (camera) { args.Add("-f"); args.Add("v4l2"); }
        if (input.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) || input.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase))
        {
            // TCP: a lost UDP packet is a smeared frame; timeout (microseconds) ends a dead socket instead of hanging
            foreach (var a in new[] { "-rtsp_transport", "tcp", "-timeout", "10000000" }) args.Add(a);
        }
        else if (url)
        {
            foreach (var a in new[] { "-rw_timeout", "10000000" }) args.Add(a);
        }
        args.Add("-i"); args.Add(input);
        foreach (var a in new[] { "-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" })
            args.Add(a);

        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new VideoException(input, "cannot start ffmpeg: " + e.Message); }
        // ffmpeg reads keys ('q') from stdin when it is a terminal; an empty closed stdin keeps it from reading ours
        process.StandardInput.Close();
        var log = new StderrLog(process);
        var timeout = openTimeout ?? TimeSpan.FromSeconds(20);
        if (!log.HeaderReady.Wait(timeout))
        {
            Kill(process);
            process.Dispose();
            throw new VideoException(input, $"no video stream reported within {timeout.TotalSeconds:0} s (stream unreachable?)");
        }
        var header = log.Header;
        if (header is null)
        {
            process.WaitForExit();
            var reason = log.Reason() ?? $"ffmpeg exited with code {process.ExitCode}";
            process.Dispose();
            throw new VideoException(input, Explain(reason));
        }
        return new VideoReader(input, process, log, header, stallTimeout ?? TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Reads the next frame into <paramref name="rgb"/> (<see cref="FrameBytes"/> long). False at the end of the
    /// input, when it failed (see <see cref="Error"/>), or after <see cref="Stop"/>; a trailing partial frame is dropped.
    /// </summary>
    public bool Read(Span<byte> rgb)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rgb.Length < FrameBytes) throw new ArgumentException($"frame buffer needs {FrameBytes} bytes", nameof(rgb));
        if (_ended) return false;
        int filled = 0;
        // the watchdog counts only time spent waiting in here: a slow consumer is not a stalled source
        Interlocked.Exchange(ref _lastProgressTicks, Environment.TickCount64);
        _inRead = true;
        try
        {
            while (filled < FrameBytes)
            {
                int n = _stdout.Read(rgb[filled..FrameBytes]);
                if (n == 0) break;
                filled += n;
                Interlocked.Exchange(ref _lastProgressTicks, Environment.TickCount64);
            }
        }
        catch (IOException e)
        {
            _inRead = false;
            Finish(e.Message);
            return false;
        }
        _inRead = false;
        if (filled < FrameBytes)
        {
            Finish(null);
            return false;
        }
        FramesRead++;
        return true;
    }

    /// <summary>The next frame as a new image, or null at the end (see <see cref="Read(Span{byte})"/>).</summary>
    public RgbImage? ReadImage()
    {
        var pixels = new byte[FrameBytes];
        return Read(pixels) ? new RgbImage(Width, Height, pixels) : null;
    }

    /// <summary>Ends decoding early (Ctrl-C): ffmpeg is stopped; the next <see cref="Read(Span{byte})"/> returns false with no error.</summary>
    public void Stop()
    {
        if (_ended) return;
        _stopped = true;
        Kill(_process);
    }

    private volatile bool _stopped;

    private void Finish(string? ioError)
    {
        _ended = true;
        _watchdog?.Dispose();
        if (!_process.WaitForExit(5000)) Kill(_process);
        _process.WaitForExit();
        _log.Completed.Wait(2000);
        if (_stopped) return;
        if (_stallReason is not null) Error = _stallReason;
        else if (ioError is not null) Error = "read failed: " + ioError;
        else if (_process.ExitCode != 0)
            Error = Explain(_log.Reason() ?? $"ffmpeg exited with code {_process.ExitCode}");
        else if (IsCamera(Input))
            Error = "the camera stopped" + (_log.Reason(afterStart: true) is { } r ? " (" + r + ")" : "");
        else if (IsLive && _log.Reason(afterStart: true) is { } late && (late.Contains("error", StringComparison.OrdinalIgnoreCase)
                     || late.Contains("prematurely", StringComparison.OrdinalIgnoreCase) || late.Contains("reset", StringComparison.OrdinalIgnoreCase)))
            // ffmpeg ends a dropped HTTP/RTSP connection with exit code 0 and a line such as "URL: Input/output error"
            Error = "the stream dropped (" + late + ")";
    }

    private void CheckStall()
    {
        if (_ended || _stopped || !_inRead) return;
        var idle = Environment.TickCount64 - Interlocked.Read(ref _lastProgressTicks);
        if (idle < _stallTimeout.TotalMilliseconds) return;
        _stallReason = $"no frame for {_stallTimeout.TotalSeconds:0} s (the stream dropped?)";
        Kill(_process);
    }

    private static string Explain(string ffmpegReason)
    {
        // ffmpeg's words for the usual cases, said the way a user would look for them
        if (ffmpegReason.Contains("Invalid data found when processing input", StringComparison.Ordinal)
            || ffmpegReason.Contains("moov atom not found", StringComparison.Ordinal))
            return "not a video (ffmpeg: " + ffmpegReason + ")";
        if (ffmpegReason.Contains("does not contain any stream", StringComparison.Ordinal)
            || ffmpegReason.Contains("matches no streams", StringComparison.Ordinal))
            return "has no video stream";
        return ffmpegReason;
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Stops ffmpeg if it still runs and releases the pipes.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog?.Dispose();
        if (!_ended)
        {
            _stopped = true;
            Kill(_process);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.-]*://")]
    private static partial Regex UrlScheme();

    private sealed record VideoHeader(int Width, int Height, double Fps, TimeSpan? Duration);

    /// <summary>Drains ffmpeg's stderr on its own thread (a full pipe would stall ffmpeg), picks the output stream's
    /// size and rate out of it, and keeps the last lines for error messages.</summary>
    private sealed partial class StderrLog
    {
        private readonly Queue<string> _tail = new();
        private readonly Queue<string> _lateTail = new();
        private bool _inOutput;
        private TimeSpan? _duration;

        public StderrLog(Process process)
        {
            var thread = new Thread(() => Pump(process.StandardError)) { IsBackground = true, Name = "ffmpeg stderr" };
            thread.Start();
        }

        public ManualResetEventSlim HeaderReady { get; } = new();
        public ManualResetEventSlim Completed { get; } = new();
        public VideoHeader? Header { get; private set; }

        private void Pump(StreamReader stderr)
        {
            try
            {
                string? line;
                while ((line = stderr.ReadLine()) is not null) Take(line);
            }
            catch (IOException) { }
            finally
            {
                HeaderReady.Set();
                Completed.Set();
            }
        }

        private void Take(string line)
        {
            if (Header is null)
            {
                var d = DurationLine().Match(line);
                if (d.Success)
                    _duration = new TimeSpan(0, int.Parse(d.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(d.Groups[2].Value, CultureInfo.InvariantCulture), 0)
                        + TimeSpan.FromSeconds(double.Parse(d.Groups[3].Value, CultureInfo.InvariantCulture));
                if (line.StartsWith("Output #0", StringComparison.Ordinal)) _inOutput = true;
                else if (_inOutput)
                {
                    var s = StreamLine().Match(line);
                    if (s.Success)
                    {
                        var fps = FpsToken().Match(line);
                        var tbr = TbrToken().Match(line);
                        double rate = fps.Success ? ParseRate(fps.Groups[1].Value) : tbr.Success ? ParseRate(tbr.Groups[1].Value) : 0;
                        Header = new VideoHeader(int.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture),
                            int.Parse(s.Groups[2].Value, CultureInfo.InvariantCulture), rate, _duration);
                        HeaderReady.Set();
                        return;
                    }
                }
            }
            if (string.IsNullOrWhiteSpace(line)) return;
            lock (_tail)
            {
                var queue = Header is null ? _tail : _lateTail;
                queue.Enqueue(line.Trim());
                if (queue.Count > 20) queue.Dequeue();
            }
        }

        private static double ParseRate(string s) =>
            s.EndsWith('k') ? double.Parse(s[..^1], CultureInfo.InvariantCulture) * 1000 : double.Parse(s, CultureInfo.InvariantCulture);

        /// <summary>ffmpeg's last line that is not a statistics line, without its "[demuxer @ 0x...]" prefix; with
        /// <paramref name="afterStart"/>, only among the lines after the stream started.</summary>
        public string? Reason(bool afterStart = false)
        {
            lock (_tail)
            {
                foreach (var l in (afterStart ? _lateTail : _lateTail.Count > 0 ? _lateTail : _tail).Reverse())
                {
                    if (l.StartsWith("frame=", StringComparison.Ordinal) || l.StartsWith("video:", StringComparison.Ordinal)
                        || l.StartsWith("Exiting normally", StringComparison.Ordinal) || l.StartsWith("Last message repeated", StringComparison.Ordinal)) continue;
                    return ComponentPrefix().Replace(l, "");
                }
            }
            return null;
        }

        [GeneratedRegex(@"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")]
        private static partial Regex DurationLine();

        [GeneratedRegex(@"^\s*Stream #0:\d+.*: Video: rawvideo.*?, (\d{2,5})x(\d{2,5})")]
        private static partial Regex StreamLine();

        [GeneratedRegex(@", ([\d.]+k?) fps")]
        private static partial Regex FpsToken();

        [GeneratedRegex(@", ([\d.]+k?) tbr")]
        private static partial Regex TbrToken();

        [GeneratedRegex(@"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")]
        private static partial Regex ComponentPrefix();
    }
}
