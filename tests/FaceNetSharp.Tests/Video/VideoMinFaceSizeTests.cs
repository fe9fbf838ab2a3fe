using System.Text.Json;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary>
/// <c>facenet video</c>'s smallest face: facenet's 20 px up to 540 rows, in proportion above (40 at 1080p), unless
/// --min-face-size says otherwise.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class VideoMinFaceSizeTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(360, 20)]
    [InlineData(540, 20)]
    [InlineData(720, 26.667)]
    [InlineData(1080, 40)]
    [InlineData(2160, 80)]
    public void Default_is_facenets_20_up_to_540_rows_then_in_proportion(int height, double expected) =>
        Assert.Equal(expected, VideoPipelineOptions.DefaultMinFaceSize(height), 3);

    [SkippableFact]
    public void The_1080p_clip_is_detected_from_40_px_unless_told_otherwise()
    {
        fx.Require();
        var clip = VideoClips.Crowd();
        foreach (var (args, expected) in new[] { (Array.Empty<string>(), 40.0), (["--min-face-size", "25"], 25.0) })
        {
            var summary = _dir.Combine("summary.json");
            var run = CliProcess.Run(["video", clip, "--max-frames", "4", "--summary", summary, .. args], TimeSpan.FromMinutes(3));
            output.WriteLine(run.Both);
            Assert.True(run.ExitCode == 0, run.Both);
            Assert.Contains($"faces from {expected:0.#} px", run.Stdout);
            using var doc = JsonDocument.Parse(File.ReadAllText(summary));
            Assert.Equal(expected, doc.RootElement.GetProperty("min_face_size").GetDouble());
            Assert.True(doc.RootElement.GetProperty("tracks").GetArrayLength() >= 4, doc.RootElement.ToString()); // the crowd's walkers, from their second detection
        }
    }
}
