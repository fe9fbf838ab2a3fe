using System.Diagnostics;
using System.Text.Json;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary><c>facenet video --chips DIR</c> as a real process on the Hamilton clip: each track's best chips as PNG, listed in the summary.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class VideoChipsTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void HamiltonClip_SavesEachTracksBestChips_NamedByTrackAndFrame_ListedInTheSummary()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var chips = _dir.Combine("chips");
        var summary = _dir.Combine("summary.json");
        var run = CliProcess.Run(["video", clip, "--chips", chips, "--summary", summary], TimeSpan.FromMinutes(5));
        output.WriteLine(run.Both);
        Assert.True(run.ExitCode == 0, run.Both);

        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        Assert.Equal("end", doc.RootElement.GetProperty("stopped").GetString());
        var listed = AssertChips(doc.RootElement, chips, doc.RootElement.GetProperty("frames").GetInt32());
        // every track that was embedded has chips (each embedded detection offers one), at most 3 (BestChipCount)
        foreach (var t in doc.RootElement.GetProperty("tracks").EnumerateArray())
            if (t.GetProperty("embeddings").GetInt32() > 0) Assert.InRange(t.GetProperty("chips").GetArrayLength(), 1, 3);
        Assert.True(listed >= 5, $"{listed} chips for the clip's tracks");
        Assert.Contains($"{listed} chip(s) of", run.Stdout);
    }

    [SkippableFact]
    public void Sigint_MidRun_WritesTheChipsOfTheTracksSoFar_Whole_AndListsThem()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var chips = _dir.Combine("chips");
        var summary = _dir.Combine("summary.json");
        var jsonl = _dir.Combine("timeline.jsonl");
        var (exit, stdout, stderr) = VideoClips.Interrupted([clip, "--json", jsonl, "--chips", chips, "--summary", summary], jsonl, afterLines: 60);
        output.WriteLine(stdout + stderr);

        Assert.Equal(130, exit);
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        Assert.Equal("cancelled", doc.RootElement.GetProperty("stopped").GetString());
        int frames = doc.RootElement.GetProperty("frames").GetInt32();
        Assert.InRange(frames, 60, 274);
        // the chips come from the frames done before the stop, and every file listed is a whole PNG
        int listed = AssertChips(doc.RootElement, chips, frames);
        Assert.True(listed >= 1, "no chips after 60 frames of two people on stage");
    }

    [SkippableFact]
    public void ChipsFolderThatIsAFile_ExitCode2_OneLineNamingIt_BeforeAnyWork()
    {
        VideoClips.RequireFfmpeg();
        var file = _dir.Write("chips", "a file, not a folder\n"u8);
        var summary = _dir.Combine("summary.json");
        // the input is a text file: had the input been opened first, the error would name it instead
        var notAVideo = _dir.Write("holiday.mp4", "not a video\n"u8);
        foreach (var dir in new[] { file, Path.Combine(file, "sub") })
        {
            var run = CliProcess.Run(["video", notAVideo, "--chips", dir, "--summary", summary]);
            output.WriteLine(run.Both);
            Assert.Equal(2, run.ExitCode);
            var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"--chips {dir}: cannot write chips there", line);
            Assert.Equal("", run.Stdout);
            Assert.False(File.Exists(summary));
        }
        Assert.Equal("a file, not a folder\n", File.ReadAllText(file));
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void ReadOnlyChipsFolder_ExitCode2_OneLineNamingIt()
    {
        // root writes into any folder whatever its mode, so the run is made as 'nobody', for whom 0555 really denies
        Skip.IfNot(CliProcess.CanRunAsOtherUser(), "needs root and setpriv to run the program as an unprivileged user");
        var clip = VideoClips.Hamilton();
        var readOnly = _dir.Combine("read-only");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(readOnly, (UnixFileMode)0b101_101_101);
        foreach (var dir in new[] { readOnly, Path.Combine(readOnly, "chips") })
        {
            var run = CliProcess.Run(["video", clip, "--chips", dir, "--max-frames", "5"], asUser: "65534",
                env: new Dictionary<string, string> { ["HOME"] = _dir.Path, ["DOTNET_CLI_HOME"] = _dir.Path });
            output.WriteLine(run.Both);
            Assert.Equal(2, run.ExitCode);
            var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"--chips {dir}: cannot write chips there", line);
            Assert.DoesNotContain("   at ", run.Both);
        }
        Assert.Empty(Directory.GetFileSystemEntries(readOnly));
    }

    /// <summary>
    /// Checks the summary's chip lists against the folder: each file is a PNG decoding to a chip, named
    /// track-NNNN/frame-NNNNNN.png by its track and frame, within the track's frames and before <paramref name="frames"/>,
    /// best (quality) first; the folder holds exactly the files listed (no temporary file). Returns how many.
    /// </summary>
    private static int AssertChips(JsonElement summary, string dir, int frames)
    {
        var listed = new HashSet<string>();
        foreach (var t in summary.GetProperty("tracks").EnumerateArray())
        {
            int id = t.GetProperty("track").GetInt32();
            int first = t.GetProperty("first_frame").GetInt32(), last = t.GetProperty("last_frame").GetInt32();
            double previous = double.MaxValue;
            foreach (var c in t.GetProperty("chips").EnumerateArray())
            {
                var path = c.GetProperty("path").GetString()!;
                int frame = c.GetProperty("frame").GetInt32();
                Assert.Equal(Path.Combine(dir, $"track-{id:D4}", $"frame-{frame:D6}.png"), path);
                Assert.InRange(frame, first, Math.Min(last, frames - 1));
                double quality = c.GetProperty("quality").GetDouble();
                Assert.True(quality <= previous, $"track {id}: chips not best first");
                previous = quality;
                var image = ImageLoader.Load(path);
                Assert.True(image.Width >= 96 && image.Width == image.Height, $"{path}: {image.Width}x{image.Height}");
                listed.Add(path);
            }
        }
        var onDisk = Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToHashSet() : [];
        Assert.Equal(listed.Order(StringComparer.Ordinal), onDisk.Order(StringComparer.Ordinal));
        return listed.Count;
    }

}
