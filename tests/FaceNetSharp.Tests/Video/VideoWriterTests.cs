using FaceNetSharp.Video;

namespace FaceNetSharp.Tests.Video;

/// <summary><see cref="VideoWriter"/>: every frame written is in the file; an abandoned or failed file never appears.</summary>
public sealed class VideoWriterTests
{
    [SkippableFact]
    public void WritesEveryFrame_OddSizeIncluded_AndOnlyOnComplete()
    {
        VideoClips.RequireFfmpeg();
        using var dir = new TempFolder();
        var path = dir.Combine("out.mp4");
        using (var writer = VideoWriter.Create(path, 101, 57, 29.97))
        {
            var frame = new byte[writer.FrameBytes];
            for (int i = 0; i < 37; i++)
            {
                Array.Fill(frame, (byte)(i * 6));
                writer.Write(frame);
            }
            Assert.False(File.Exists(path)); // under its temporary name until complete
            writer.Complete();
        }
        var (frames, width, height) = VideoClips.Probe(path);
        Assert.Equal(37, frames);
        Assert.Equal((102, 58), (width, height)); // padded to even sizes for yuv420p
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
    }

    [SkippableFact]
    public void Abandoned_LeavesTheOldFileAndNoTemporaryOne()
    {
        VideoClips.RequireFfmpeg();
        using var dir = new TempFolder();
        var path = dir.Write("out.mp4", "previous run"u8);
        using (var writer = VideoWriter.Create(path, 64, 64, 25))
            writer.Write(new byte[writer.FrameBytes]);
        Assert.Equal("previous run", File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
    }
}
