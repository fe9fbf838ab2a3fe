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
