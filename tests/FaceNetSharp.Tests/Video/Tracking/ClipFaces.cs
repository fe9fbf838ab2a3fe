using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FaceNetSharp.Models;
using FaceNetSharp.Video;
using FaceNetSharp.Video.Tracking;

namespace FaceNetSharp.Tests.Video.Tracking;

/// <summary>
/// A real clip's faces on every frame (MTCNN, aligned chip, embedding), decoded with <see cref="VideoReader"/> and
/// detected once per test run (cached by path), so the tracker can be run on them many ways at no detection cost.
/// </summary>
internal sealed class ClipFaces
{
    private static readonly ConcurrentDictionary<string, Lazy<ClipFaces>> Cache = new();

    private ClipFaces(string path, double fps, int width, int height, List<TrackDetection>[] frames, bool[] cuts, TimeSpan took)
    {
        Cuts = cuts;
        Path = path;
        FramesPerSecond = fps;
        Width = width;
        Height = height;
        Frames = frames;
        DetectionTime = took;
    }

    public string Path { get; }
    public double FramesPerSecond { get; }
    public int Width { get; }
    public int Height { get; }
    public IReadOnlyList<List<TrackDetection>> Frames { get; }
    /// <summary>Whether each frame starts a new shot (<see cref="SceneCutDetector"/>, as the pipeline finds them).</summary>
    public IReadOnlyList<bool> Cuts { get; }
    public TimeSpan DetectionTime { get; }

    /// <param name="minFaceSize">MTCNN's smallest face in pixels (its default 20; larger is faster on big frames).</param>
    public static ClipFaces Load(string path, ModelStore store, string model = "mobilefacenet", double minFaceSize = 20) =>
        Cache.GetOrAdd($"{path}|{model}|{minFaceSize}", _ => new Lazy<ClipFaces>(() => Detect(path, store, model, minFaceSize))).Value;

    private static ClipFaces Detect(string path, ModelStore store, string model, double minFaceSize)
    {
        using var recognizer = FaceRecognizer.Open(model, store.Directory, new FaceNetSharp.Detection.MtcnnOptions { MinFaceSize = minFaceSize });
        using var reader = VideoReader.Open(path);
        var frames = new List<List<TrackDetection>>();
        var cuts = new List<bool>();
        var shots = new SceneCutDetector(reader.Width, reader.Height);
        var clock = Stopwatch.StartNew();
        while (reader.ReadImage() is { } image)
        {
            cuts.Add(shots.Next(image.Pixels));
            var faces = recognizer.Detect(image);
            var chips = faces.Select(f => recognizer.Align(image, f)).ToList();
            var vectors = chips.Count > 0 ? recognizer.EmbedAligned(chips) : [];
            frames.Add(faces.Select((f, i) => new TrackDetection(f, vectors[i], chips[i])).ToList());
        }
        if (reader.Error is not null) throw new InvalidOperationException($"{path}: {reader.Error}");
        return new ClipFaces(path, reader.FramesPerSecond, reader.Width, reader.Height, [.. frames], [.. cuts], clock.Elapsed);
    }

    public TimeSpan Time(int frame) => TimeSpan.FromSeconds(frame / FramesPerSecond);

    /// <summary>Runs a tracker over the clip, detecting every <paramref name="detectEvery"/>-th frame; returns it and the faces of each frame.</summary>
    /// <param name="cuts">Tell the tracker the clip's scene cuts, as the pipeline does (false: as before it had them).</param>
    /// <param name="falseCuts">Frames to report as scene cuts too, as a flash or a false detection of a cut would.</param>
    public (FaceTracker tracker, List<IReadOnlyList<TrackedFace>> faces) Track(FaceTrackerOptions options, TrackNamer? namer = null,
        int detectEvery = 1, bool embeddings = true, bool cuts = true, IReadOnlyCollection<int>? falseCuts = null)
    {
        var tracker = new FaceTracker(options, namer);
        var faces = new List<IReadOnlyList<TrackedFace>>();
        for (int f = 0; f < Frames.Count; f++)
        {
            IReadOnlyList<TrackDetection>? dets = f % detectEvery == 0
                ? (embeddings ? Frames[f] : Frames[f].Select(d => new TrackDetection(d.Face)).ToList())
                : null;
            faces.Add(tracker.Update(f, Time(f), dets, (cuts && Cuts[f]) || (falseCuts?.Contains(f) ?? false)));
        }
        return (tracker, faces);
    }

    /// <summary>One line per track: id, name, distance, stranger group, frames, time, where its box was first and last.</summary>
    public static string Describe(VideoSummary summary, FaceTracker tracker)
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        foreach (var t in summary.Tracks)
        {
            var track = tracker.Tracks[t.Track - 1];
            s.AppendLine(c, $"  #{t.Track,-3} {(t.Name ?? (t.Stranger is { } g ? $"stranger {g}" : "unknown")),-20} d={t.Distance?.ToString("F3", c) ?? "-",-6} " +
                $"frames {t.FirstFrame,4}-{t.LastFrame,-4} seen {t.FramesSeen,4} emb {t.Embeddings,4}  {t.FirstTime.TotalSeconds:F2}s-{t.LastTime.TotalSeconds:F2}s" +
                $"  best chip f{(track.BestChips.Count > 0 ? track.BestChips[0].Frame : -1)}");
        }
        return s.ToString();
    }
}
