using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FaceNetSharp.Video;

/// <summary>
/// Finds the ffmpeg and ffprobe programs (on PATH, or <c>FACENET_FFMPEG</c> naming ffmpeg's path) and asks ffmpeg
/// what it can encode. Video decoding and encoding run in these processes, over raw-frame pipes (see
/// <see cref="VideoReader"/>).
/// </summary>
internal static partial class Ffmpeg
{
    private static readonly Lazy<string?> FfmpegPath = new(() => Find("ffmpeg", Environment.GetEnvironmentVariable("FACENET_FFMPEG")));
    private static readonly Lazy<HashSet<string>> EncoderNames = new(ListEncoders);

    /// <summary>ffmpeg's path; throws a <see cref="VideoException"/> naming <paramref name="forInput"/> when it is not installed.</summary>
    public static string Require(string forInput) =>
        FfmpegPath.Value ?? throw new VideoException(forInput, "ffmpeg is not installed (apt-get install ffmpeg, or set FACENET_FFMPEG to its path)");

    /// <summary>True when ffmpeg is on this machine.</summary>
    public static bool IsAvailable => FfmpegPath.Value is not null;

    /// <summary>Whether this ffmpeg was built with the named encoder (<c>ffmpeg -encoders</c>).</summary>
    public static bool HasEncoder(string name) => EncoderNames.Value.Contains(name);

    private static readonly Lazy<string?> SetsidPath = new(() => OperatingSystem.IsLinux() ? Find("setsid", null) : null);

    /// <summary>
    /// A start for ffmpeg with all three pipes redirected. On Linux it runs under <c>setsid</c> (util-linux), in a
    /// session of its own: Ctrl-C at the terminal signals the whole foreground process group, and an ffmpeg that got
    /// it would stop on its own, mid-frame, before this program had closed its input and output in order. setsid
    /// execs ffmpeg in place (the process id is ffmpeg's), so stopping the process stops ffmpeg.
    /// </summary>
    public static ProcessStartInfo StartInfo(string ffmpeg)
    {
        var psi = new ProcessStartInfo(SetsidPath.Value ?? ffmpeg)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (SetsidPath.Value is not null) psi.ArgumentList.Add(ffmpeg);
        return psi;
    }

    private static string? Find(string program, string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return File.Exists(explicitPath) ? explicitPath : null;
        var exe = OperatingSystem.IsWindows() ? program + ".exe" : program;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, exe);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static HashSet<string> ListEncoders()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (FfmpegPath.Value is null) return names;
        var psi = new ProcessStartInfo(FfmpegPath.Value) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-encoders" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null)
        {
            // " V....D libx264              libx264 H.264 / AVC ..." : six flag characters, then the name
            var m = EncoderLine().Match(line);
            if (m.Success) names.Add(m.Groups[1].Value);
        }
        p.WaitForExit();
        return names;
    }

    [GeneratedRegex(@"^\s[VAS][F.][S.][X.][B.][D.]\s+(\S+)")]
    private static partial Regex EncoderLine();
}
