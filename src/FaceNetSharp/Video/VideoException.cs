namespace FaceNetSharp.Video;

/// <summary>
/// A video input or output that cannot be used: not a video, a camera that does not exist, a stream that cannot be
/// reached, ffmpeg missing. <see cref="Exception.Message"/> is one line that names the input (or output).
/// </summary>
public sealed class VideoException : Exception
{
    /// <summary>An error about <paramref name="source"/> (a path, device or URL); the message starts with it.</summary>
    public VideoException(string source, string reason) : base($"{source}: {reason}") => Source = source;

    /// <summary>The input or output the error is about.</summary>
    public new string Source { get; }
}
