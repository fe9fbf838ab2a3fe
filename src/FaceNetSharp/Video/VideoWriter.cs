using System.Diagnostics;
using System.Globalization;

namespace FaceNetSharp.Video;

/// <summary>
/// Encodes frames to an .mp4 with an <c>ffmpeg</c> process fed raw RGBA (or RGB24) frames on its stdin pipe: H.264
/// (libx264) when this ffmpeg has it, else MPEG-4 part 2. Frames never touch the disk.
/// </summary>
/// <remarks>
/// The file is written under a temporary name in the target's folder (<c>.NAME.GUID.partial</c>) and renamed over the
/// target by <see cref="Complete"/>, after ffmpeg has written the index (moov) and exited cleanly: the target is
/// never a half-written mp4, whether the input ended, dropped or was stopped with Ctrl-C (all of which complete the
/// file with the frames so far). The price: for a camera or a stream the .mp4 appears only when the run stops.
/// A process killed outright (SIGKILL, power) leaves the .partial file (unplayable: no index) and no target.
/// </remarks>
public sealed class VideoWriter : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly string _temp;
    private readonly Queue<string> _stderrTail = new();
    private readonly Thread _stderrPump;
    private bool _finished;

    private VideoWriter(string path, string temp, Process process, int width, int height, int bytesPerPixel, string encoder)
    {
        Path = path;
        _temp = temp;
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        Width = width;
        Height = height;
        FrameBytes = width * height * bytesPerPixel;
        Encoder = encoder;
        _stderrPump = new Thread(() =>
        {
            try
            {
                string? line;
                while ((line = process.StandardError.ReadLine()) is not null)
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    lock (_stderrTail)
                    {
                        _stderrTail.Enqueue(line.Trim());
                        if (_stderrTail.Count > 10) _stderrTail.Dequeue();
                    }
                }
            }
            catch (IOException) { }
        }) { IsBackground = true, Name = "ffmpeg encoder stderr" };
        _stderrPump.Start();
    }

    /// <summary>The target file.</summary>
    public string Path { get; }

    /// <summary>Frame width.</summary>
    public int Width { get; }

    /// <summary>Frame height.</summary>
    public int Height { get; }

    /// <summary>Bytes of one frame as <see cref="Write"/> takes it.</summary>
    public int FrameBytes { get; }

    /// <summary>The ffmpeg encoder in use (<c>libx264</c> or <c>mpeg4</c>).</summary>
    public string Encoder { get; }

    /// <summary>Frames written so far.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>
    /// Starts ffmpeg writing <paramref name="path"/> (under its temporary name) from frames of
    /// <paramref name="width"/> x <paramref name="height"/> at <paramref name="framesPerSecond"/>, each
    /// <paramref name="width"/> x <paramref name="height"/> x 4 bytes RGBA (alpha ignored), or x 3 bytes RGB24 when
    /// <paramref name="rgba"/> is false. Throws <see cref="VideoException"/> naming the path when ffmpeg is missing
    /// or the folder cannot be written.
    /// </summary>
    public static VideoWriter Create(string path, int width, int height, double framesPerSecond, bool rgba = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var ffmpeg = Ffmpeg.Require(path);
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new VideoException(path, "cannot create its folder: " + e.Message); }
        if (Directory.Exists(full)) throw new VideoException(path, "is a folder");
        var temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        // probe that the folder takes a file, so the error names the target rather than ffmpeg's temporary name
        try { using (File.Create(temp)) { } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new VideoException(path, "cannot be written: " + e.Message); }

        // The rate must be a positive number for the muxer; a source without one (some cameras) is taken as 25 fps.
        double fps = framesPerSecond > 0 && double.IsFinite(framesPerSecond) ? framesPerSecond : 25;
        // libx264 -preset veryfast -crf 23: encoding the 275 frames of the 640x360 clip took 1.9 s of CPU (477 KB) on this
        // project's 2-core machine, against 1.6 s for superfast (788 KB) and 1.2 s for ultrafast (1.29 MB); veryfast
        // keeps the file small for little CPU. yuv420p so that every player opens it (needs even sizes, hence the pad).
        string encoder = Ffmpeg.HasEncoder("libx264") ? "libx264" : "mpeg4";
        var psi = Ffmpeg.StartInfo(ffmpeg);
        var args = psi.ArgumentList;
        foreach (var a in new[] { "-hide_banner", "-nostats", "-loglevel", "error", "-y",
                     "-f", "rawvideo", "-pix_fmt", rgba ? "rgba" : "rgb24", "-video_size", $"{width}x{height}",
                     "-framerate", fps.ToString("0.#####", CultureInfo.InvariantCulture), "-i", "pipe:0",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-c:v", encoder })
            args.Add(a);
        if (encoder == "libx264") foreach (var a in new[] { "-preset", "veryfast", "-crf", "23" }) args.Add(a);
        else foreach (var a in new[] { "-q:v", "4" }) args.Add(a);
        // +faststart: the index goes to the front (playable while downloading); -f mp4 because the temporary name has no .mp4
        foreach (var a in new[] { "-movflags", "+faststart", "-f", "mp4", temp }) args.Add(a);
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            File.Delete(temp);
            throw new VideoException(path, "cannot start ffmpeg: " + e.Message);
        }
        return new VideoWriter(path, temp, process, width, height, rgba ? 4 : 3, encoder);
    }

    /// <summary>Writes one frame (<see cref="FrameBytes"/> bytes). Throws <see cref="VideoException"/> when ffmpeg has stopped.</summary>
    public void Write(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (frame.Length != FrameBytes) throw new ArgumentException($"a frame is {FrameBytes} bytes, got {frame.Length}", nameof(frame));
        try { _stdin.Write(frame); }
        catch (IOException e)
        {
            _process.WaitForExit(5000);
            throw new VideoException(Path, "the encoder stopped: " + (Reason() ?? e.Message));
        }
        FramesWritten++;
    }

    /// <summary>
    /// Ends the stream: closes ffmpeg's stdin, waits for it to write the file's index, and renames the file into place.
    /// Throws <see cref="VideoException"/> (and removes the temporary file) when ffmpeg failed; the target is then
    /// left as it was. With no frame written, nothing is written and the target is left as it was.
    /// </summary>
    public void Complete()
    {
        if (_finished) return;
        _finished = true;
        try { _stdin.Close(); } catch (IOException) { }
        bool exited = _process.WaitForExit(TimeSpan.FromMinutes(2));
        if (!exited) Kill();
        _process.WaitForExit();
        _stderrPump.Join(2000);
        int code = _process.ExitCode;
        _process.Dispose();
        if (!exited || code != 0 || FramesWritten == 0)
        {
            TryDelete(_temp);
            if (FramesWritten == 0) return;
            throw new VideoException(Path, exited ? $"encoding failed: {Reason() ?? $"ffmpeg exited with code {code}"}" : "the encoder did not finish within 2 minutes");
        }
        try { File.Move(_temp, System.IO.Path.GetFullPath(Path), overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(_temp);
            throw new VideoException(Path, "cannot be written: " + e.Message);
        }
    }

    /// <summary>Abandons the file unless <see cref="Complete"/> ran: ffmpeg is stopped and the temporary file removed.</summary>
    public void Dispose()
    {
        if (_finished) return;
        _finished = true;
        Kill();
        _process.WaitForExit();
        _process.Dispose();
        TryDelete(_temp);
    }

    private void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    private string? Reason()
    {
        lock (_stderrTail) return _stderrTail.Count == 0 ? null : _stderrTail.Last();
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
