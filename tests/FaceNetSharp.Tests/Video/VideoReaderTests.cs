using FaceNetSharp.Video;

namespace FaceNetSharp.Tests.Video;

/// <summary><see cref="VideoReader"/> on the real clips and on inputs that are not videos.</summary>
public sealed class VideoReaderTests
{
    [SkippableFact]
    public void ReadsEveryFrameOfTheHamiltonClip_AtItsSizeAndRate()
    {
        var clip = VideoClips.Hamilton();
        using var reader = VideoReader.Open(clip);
        Assert.Equal(640, reader.Width);
        Assert.Equal(360, reader.Height);
        Assert.Equal(29.97, reader.FramesPerSecond, 2);
        Assert.False(reader.IsLive);
        Assert.InRange(reader.EstimatedFrameCount!.Value, 270, 305); // 10.01 s x 29.97

        var frame = new byte[reader.FrameBytes];
        long sum = 0;
        while (reader.Read(frame)) sum += frame[frame.Length / 2];
        Assert.Null(reader.Error);
        Assert.Equal(VideoClips.Probe(clip).Frames, reader.FramesRead);
        Assert.Equal(275, reader.FramesRead);
        Assert.True(sum > 0, "frames are not all black");
    }

    [SkippableFact]
    public void TextFileNamedMp4_IsNotAVideo_OneLineNamingIt()
    {
        VideoClips.RequireFfmpeg();
        using var dir = new TempFolder();
        var fake = dir.Write("notes.mp4", "just some text, not a video\n"u8);
        var e = Assert.Throws<VideoException>(() => VideoReader.Open(fake));
        Assert.StartsWith(fake + ": not a video", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [SkippableFact]
    public void MissingCamera_AndMissingFile_NameTheInput()
    {
        VideoClips.RequireFfmpeg();
        Skip.If(File.Exists("/dev/video9"), "this machine has a /dev/video9");
        var e = Assert.Throws<VideoException>(() => VideoReader.Open("/dev/video9"));
        Assert.Equal("/dev/video9: no such camera (device does not exist)", e.Message);
        var missing = Path.Combine(Path.GetTempPath(), "no-such-clip-" + Guid.NewGuid().ToString("N") + ".mp4");
        Assert.Equal(missing + ": no such file", Assert.Throws<VideoException>(() => VideoReader.Open(missing)).Message);
    }

    [SkippableFact]
    public void UnreachableStream_FailsWithinItsTimeout()
    {
        VideoClips.RequireFfmpeg();
        // port 9 (discard) on this machine: nothing listens, the connection is refused at once
        var e = Assert.Throws<VideoException>(() => VideoReader.Open("http://127.0.0.1:9/live.mp4", TimeSpan.FromSeconds(15)));
        Assert.StartsWith("http://127.0.0.1:9/live.mp4: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
