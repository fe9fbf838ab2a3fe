using System.Text.Json;
using FaceNetSharp.Models;
using FaceNetSharp.Tests.Models;
using FaceNetSharp.Video;
using FaceNetSharp.Video.Tracking;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary>
/// After Ctrl-C, the summary describes the frames written and no others: every track's last frame is a written frame
/// where the timeline shows the track detected, and its frames seen are the timeline's (and the one before confirmation).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class InterruptedSummaryTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Each track's detected frames in a JSONL timeline.</summary>
    private static Dictionary<int, List<int>> DetectedFrames(IEnumerable<string> lines)
    {
        var seen = new Dictionary<int, List<int>>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            int frame = doc.RootElement.GetProperty("frame").GetInt32();
            foreach (var f in doc.RootElement.GetProperty("faces").EnumerateArray())
                if (f.GetProperty("detected").GetBoolean())
                {
                    int track = f.GetProperty("track").GetInt32();
                    if (!seen.TryGetValue(track, out var frames)) seen[track] = frames = [];
                    frames.Add(frame);
                }
        }
        return seen;
    }

    private static void AssertConsistent(IEnumerable<(int Track, int FirstFrame, int LastFrame, int FramesSeen)> tracks, long written,
        Dictionary<int, List<int>> timeline)
    {
        foreach (var t in tracks)
        {
            Assert.True(t.LastFrame < written, $"track {t.Track}: last frame {t.LastFrame}, but {written} frames (0-{written - 1}) were written");
            Assert.True(timeline.TryGetValue(t.Track, out var frames), $"track {t.Track} is not in the timeline");
            // a track is reported from its confirmation (its second detection, ConfirmHits): its first detection is in
            // the summary (first_frame, frames_seen) but not in the timeline
            Assert.True(frames[^1] == t.LastFrame && frames[0] >= t.FirstFrame && t.FramesSeen - frames.Count is 0 or 1,
                $"track {t.Track}: summary frames {t.FirstFrame}-{t.LastFrame}, seen {t.FramesSeen}; timeline {frames[0]}-{frames[^1]}, seen {frames.Count}");
        }
    }

    /// <summary>
    /// The pipeline cancelled while its output stage is the slow one (as with a slow encoder): the tracker has taken a
    /// frame and waits for room in the full queue to the writer when the cancel comes. That frame used to be dropped
    /// (the wait was cancelled) while the tracker kept it: the summary then held a frame the outputs do not.
    /// </summary>
    [SkippableFact]
    public void Cancelled_while_the_output_is_behind_the_summary_holds_only_written_frames()
    {
        var store = fx.Require();
        var clip = VideoClips.Hamilton();
        using var recognizer = FaceRecognizer.Open("mobilefacenet", store.Directory);
        var tracker = new FaceTracker(FaceTrackerOptions.For(recognizer.Model));
        var pipeline = new VideoPipeline(recognizer, tracker, new VideoPipelineOptions { DetectEvery = 1 });
        using var reader = VideoReader.Open(clip);
        var timelineStream = new MemoryStream();
        using var cancel = new CancellationTokenSource();
        VideoRunResult result;
        using (var timeline = new TimelineWriter(timelineStream, leaveOpen: true))
        {
            result = pipeline.Run(reader, null, timeline, written =>
            {
                Thread.Sleep(40); // a slow output stage: the analysis fills the queue and waits on it
                if (written == 30) cancel.Cancel();
            }, cancel.Token);
        }
        var lines = System.Text.Encoding.UTF8.GetString(timelineStream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine($"{result.Frames} frames written, {lines.Length} timeline lines; tracks: " +
            string.Join("; ", result.Summary.Tracks.Select(t => $"#{t.Track} {t.FirstFrame}-{t.LastFrame} seen {t.FramesSeen}")));
        Assert.Equal(VideoStop.Cancelled, result.Stop);
        Assert.Equal(result.Frames, lines.Length);
        Assert.NotEmpty(result.Summary.Tracks);
        AssertConsistent(result.Summary.Tracks.Select(t => (t.Track, t.FirstFrame, t.LastFrame, t.FramesSeen)), result.Frames, DetectedFrames(lines));
    }

    /// <summary>The command after SIGINT: the summary file's tracks agree with the timeline written (frames, first and last frame, frames seen).</summary>
    [SkippableFact]
    public void Sigint_summary_agrees_with_the_timeline()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var jsonl = _dir.Combine("timeline.jsonl");
        var summary = _dir.Combine("summary.json");
        var mp4 = _dir.Combine("out.mp4");
        var (exit, stdout, stderr) = VideoClips.Interrupted([clip, "--out", mp4, "--json", jsonl, "--summary", summary, "--detect-every", "1"], jsonl, afterLines: 40);
        output.WriteLine(stdout + stderr);
        Assert.Equal(130, exit);
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        long frames = doc.RootElement.GetProperty("frames").GetInt64();
        var lines = File.ReadAllLines(jsonl);
        Assert.Equal(frames, lines.Length);
        Assert.Equal(frames, VideoClips.Probe(mp4).Frames);
        var tracks = doc.RootElement.GetProperty("tracks").EnumerateArray().Select(t => (t.GetProperty("track").GetInt32(),
            t.GetProperty("first_frame").GetInt32(), t.GetProperty("last_frame").GetInt32(), t.GetProperty("frames_seen").GetInt32())).ToList();
        AssertConsistent(tracks, frames, DetectedFrames(lines));
    }
}
