using System.Diagnostics;
using FaceNetSharp.Video;

namespace FaceNetSharp.Tests.Video;

/// <summary>The real clips in ../shared the video tests use, and ffmpeg/ffprobe checks; each skips with a reason when absent.</summary>
internal static class VideoClips
{
    /// <summary>640x360, 29.97 fps, 275 frames (face_recognition's example; two people on stage).</summary>
    public static string Hamilton()
    {
        RequireFfmpeg();
        return TestPaths.Shared("faces", "face_recognition-examples", "examples", "short_hamilton_clip.mp4");
    }

    /// <summary>1920x1080, 25 fps, 105 frames (facenet-pytorch's tracking example; a crowd).</summary>
    public static string Crowd()
    {
        RequireFfmpeg();
        return TestPaths.Shared("videos", "facenet-pytorch", "video.mp4");
    }

    public static string HamiltonFace(string name) =>
        TestPaths.Shared("faces", "face_recognition-examples", "examples", name + ".png");

    /// <summary>
    /// Runs <c>facenet video</c> with <paramref name="args"/> as a process, sends it SIGINT (as Ctrl-C) once its
    /// timeline <paramref name="timeline"/> has <paramref name="afterLines"/> lines, and waits for it to stop (at most a
    /// minute); fails the test when it ended before, the signal failed, or it did not stop.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Interrupted(string[] args, string timeline, int afterLines)
    {
        // env --default-signal=INT (coreutils 8.31+): a parent started in the background (a CI shell's '&') leaves SIGINT
        // ignored in its children, and .NET keeps an ignored SIGINT ignored; a terminal's Ctrl-C has no such parent
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "facenet.dll"), "video" }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // interrupt once some frames are written, well before the end
        var waited = Stopwatch.StartNew();
        int seen;
        while ((seen = CountLines(timeline)) < afterLines && !p.HasExited && waited.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(20);
        // (the message must not read stderr.Result: that waits for the process to end)
        if (p.HasExited) Assert.Fail($"facenet video ended before it could be interrupted ({seen} lines): " + stderr.Result);
        // the syscall itself: starting a kill process can take seconds on a loaded machine, past the end of the clip
        int killed = Kill(p.Id, SigInt);
        Assert.True(killed == 0, $"kill({p.Id}, SIGINT): errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()} at {seen} lines after {waited.Elapsed}");
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)), "facenet video did not stop within a minute of SIGINT");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private const int SigInt = 2; // Linux

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>The lines of a file another process is writing (0 before it exists).</summary>
    private static int CountLines(string path)
    {
        if (!File.Exists(path)) return 0;
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int n = 0, b;
        while ((b = s.ReadByte()) >= 0) if (b == '\n') n++;
        return n;
    }

    public static void RequireFfmpeg() =>
        Skip.IfNot(Ffmpeg.IsAvailable, "ffmpeg is not installed (scripts/install-test-deps.sh installs it)");

    /// <summary>ffprobe's decoded-frame count, width and height of a video file's first video stream.</summary>
    public static (int Frames, int Width, int Height) Probe(string path)
    {
        var psi = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0",
                     "-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", path })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffprobe {path}: {stderr.Trim()}");
        var parts = stdout.Trim().Split(',');
        return (int.Parse(parts[2]), int.Parse(parts[0]), int.Parse(parts[1]));
    }
}
