using System.Text.Json;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary><c>facenet video</c> at the scene cuts of short_hamilton_clip.mp4, as the README's first video example runs it.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class SceneCutCommandTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// The README's first example (dlib, both photos enrolled with <c>--low-res 24,48</c>, defaults): Alex Lacamoire's
    /// profile track, last seen at frame 81, was re-identified on Barack Obama's face in the audience at frame 213,
    /// across the cut at 211 (one track, two people). Nobody before that cut is in the audience after it, so no track
    /// may hold detected faces on both sides of it; the summary lists the cuts the run found.
    /// </summary>
    [SkippableFact]
    public void Readme_example_with_dlib_no_track_crosses_the_cut_to_the_audience()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var gallery = _dir.Combine("people.db");
        foreach (var person in new[] { "lin-manuel-miranda", "alex-lacamoire" })
        {
            var add = CliProcess.Run(["gallery", "--gallery", gallery, "--model", "dlib", "add", person, VideoClips.HamiltonFace(person), "--low-res", "24,48"]);
            Assert.True(add.ExitCode == 0, add.Both);
        }
        var jsonl = _dir.Combine("timeline.jsonl");
        var summary = _dir.Combine("summary.json");
        var run = CliProcess.Run(["video", clip, "--model", "dlib", "--gallery", gallery, "--json", jsonl, "--summary", summary],
            TimeSpan.FromMinutes(5));
        output.WriteLine(run.Both);
        Assert.True(run.ExitCode == 0, run.Both);

        const int cut = 211;
        var detected = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .SelectMany(l => l.GetProperty("faces").EnumerateArray().Where(f => f.GetProperty("detected").GetBoolean())
                .Select(f => (Frame: l.GetProperty("frame").GetInt32(), Track: f.GetProperty("track").GetInt32()))).ToList();
        var before = detected.Where(d => d.Frame < cut).Select(d => d.Track).ToHashSet();
        var across = detected.Where(d => d.Frame >= cut && before.Contains(d.Track)).ToList();
        Assert.True(across.Count == 0, $"track(s) {string.Join(", ", across.Select(a => $"{a.Track} at frame {a.Frame}").Distinct())} hold faces before and after the cut at {cut}");

        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        // One stranger cannot be two faces of one frame: before, tracks 7 and 9 (two audience faces, both detected in
        // frames 213-273) were printed as "one unknown person in more than one track".
        var inFrame = detected.GroupBy(d => d.Frame).Select(f => f.Select(d => d.Track).ToHashSet()).ToList();
        foreach (var stranger in doc.RootElement.GetProperty("strangers").EnumerateArray())
        {
            var members = stranger.EnumerateArray().Select(t => t.GetInt32()).ToList();
            foreach (var a in members)
                foreach (var b in members.Where(b => b > a))
                    Assert.False(inFrame.Any(f => f.Contains(a) && f.Contains(b)),
                        $"tracks {a} and {b} are grouped as one stranger but are detected in the same frame: {stranger}");
        }
        // Nor can one stranger be on both sides of the cut to the audience: Alex Lacamoire's profile track (frames
        // 21-81, no detection both sure and not in profile) and a 3-frame audience track (scores 0.78-0.85) were
        // printed as "1 unknown people appear in more than one track: 3, 10".
        var spans = doc.RootElement.GetProperty("tracks").EnumerateArray().ToDictionary(t => t.GetProperty("track").GetInt32(),
            t => (First: t.GetProperty("first_frame").GetInt32(), Last: t.GetProperty("last_frame").GetInt32()));
        foreach (var stranger in doc.RootElement.GetProperty("strangers").EnumerateArray())
        {
            var members = stranger.EnumerateArray().Select(t => t.GetInt32()).ToList();
            Assert.False(members.Any(t => spans[t].Last < cut) && members.Any(t => spans[t].First >= cut),
                $"tracks {string.Join(", ", members)} are one stranger on both sides of the cut at {cut}");
        }
        Assert.DoesNotContain("unknown people appear", run.Stdout);
        Assert.Equal([20, 82, 211], doc.RootElement.GetProperty("scene_cuts").EnumerateArray().Select(c => c.GetInt32()));
        Assert.True(doc.RootElement.GetProperty("people").TryGetProperty("lin-manuel-miranda", out _), doc.RootElement.ToString());
        Assert.True(doc.RootElement.GetProperty("people").TryGetProperty("alex-lacamoire", out _), doc.RootElement.ToString());
    }

    /// <summary>
    /// The same example with only Alex Lacamoire enrolled: Lin-Manuel Miranda's wide shot and close-up, two tracks
    /// (Alex's profile shot between them), are one unknown person, and the console says so in the singular (it printed
    /// "1 unknown people appear").
    /// </summary>
    [SkippableFact]
    public void Readme_example_with_Lin_not_enrolled_his_two_tracks_are_one_stranger_said_in_the_singular()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var gallery = _dir.Combine("alex.db");
        var add = CliProcess.Run(["gallery", "--gallery", gallery, "--model", "dlib", "add", "alex-lacamoire", VideoClips.HamiltonFace("alex-lacamoire"), "--low-res", "24,48"]);
        Assert.True(add.ExitCode == 0, add.Both);
        var summary = _dir.Combine("summary.json");
        var run = CliProcess.Run(["video", clip, "--model", "dlib", "--gallery", gallery, "--summary", summary], TimeSpan.FromMinutes(5));
        output.WriteLine(run.Both);
        Assert.True(run.ExitCode == 0, run.Both);
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        var tracks = doc.RootElement.GetProperty("tracks").EnumerateArray().ToList();
        // his wide shot: the second track born at frame 0 (the first is Alex at the piano, named); his close-up: the longest track
        int wide = tracks.Where(t => t.GetProperty("first_frame").GetInt32() == 0 && t.GetProperty("name").ValueKind == JsonValueKind.Null)
            .Select(t => t.GetProperty("track").GetInt32()).Single();
        int close = tracks.MaxBy(t => t.GetProperty("frames_seen").GetInt32()).GetProperty("track").GetInt32();
        var group = Assert.Single(doc.RootElement.GetProperty("strangers").EnumerateArray().Select(g => g.EnumerateArray().Select(t => t.GetInt32()).ToList()),
            g => g.Contains(wide));
        Assert.Equal([wide, close], group);
        Assert.Contains($"1 unknown person appears in more than one track: {wide}, {close}", run.Stdout);
    }
}
