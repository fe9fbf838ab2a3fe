using System.Diagnostics;
using System.Threading.Channels;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using FaceNetSharp.Video.Tracking;
using SkiaSharp;

namespace FaceNetSharp.Video;

/// <summary>How <see cref="VideoPipeline"/> runs.</summary>
public sealed record VideoPipelineOptions
{
    /// <summary>
    /// The detector runs on every k-th frame (frames 0, k, 2k, ...); the tracker predicts the boxes in between.
    /// 3 by default: at k = 2 the 640x360 clip's 9.2 s cost 18.1 s of CPU on this project's 2-core machine (all stages
    /// and both ffmpeg processes, start-up included), about all that two cores give in 9.2 s; k = 3 detects a third
    /// fewer frames, and at 30 fps a face moves little in 3 frames. Figures in the README's video section.
    /// </summary>
    public int DetectEvery { get; init; } = DefaultDetectEvery;

    /// <summary>The default of <see cref="DetectEvery"/>.</summary>
    public const int DefaultDetectEvery = 3;

    /// <summary>Embed the detected faces (needed to name tracks, re-identify them and group strangers). True by default.</summary>
    public bool Embed { get; init; } = true;

    /// <summary>
    /// A face that clearly continues a track (overlapping it alone, at IoU 0.5 or more) whose track already holds this
    /// many embeddings is embedded only on every <see cref="SettledEmbedEvery"/>-th detection run: its name rests on
    /// enough frames by then, and the embedder's time goes to the faces that still need it. 0: embed every detected face.
    /// </summary>
    public int SettledEmbeddings { get; init; } = 10;

    /// <summary>How often a settled track's face is still embedded (see <see cref="SettledEmbeddings"/>), in detection runs.</summary>
    public int SettledEmbedEvery { get; init; } = 4;

    /// <summary>
    /// Frames detected at once, each on its own thread (the tracker still takes them in order). 2 by default: on two
    /// cores one frame's MTCNN (one ONNX Runtime thread) overlaps the next one's; more is for more cores.
    /// </summary>
    public int DetectWorkers { get; init; } = 2;

    /// <summary>
    /// MTCNN's smallest face (pixels) for a video <paramref name="height"/> rows high when none is given: facenet's 20
    /// up to 540 rows, then in proportion to the height (40 at 1080p, 80 at 2160p), so that P-Net scans no more pyramid
    /// than on a 960x540 frame. Video, unlike <c>facenet align</c>, is not bound to facenet's exact detections, and a face
    /// under 1/27 of the frame's height is too small to name (its chip would be upscaled 3x at 1080p). Measured on
    /// facenet-pytorch's video.mp4 (1920x1080, 105 frames, detection every 3rd; FACENETSHARP_PROFILE=1, thread CPU):
    /// MTCNN 10.7 s at 20 px, 7.0 s at 30, 5.2 s at 40; the people walking towards the camera keep one track each at 40
    /// (CrowdClipTrackingTests, FastMoverTrackingTests detect at 40). Figures in the README's video section.
    /// </summary>
    public static double DefaultMinFaceSize(int height) => Math.Max(MtcnnFacenetMinFaceSize, MtcnnFacenetMinFaceSize * height / 540.0);

    /// <summary>facenet's MTCNN minsize (src/align/align_dataset_mtcnn.py: minsize = 20).</summary>
    private const double MtcnnFacenetMinFaceSize = 20;

    /// <summary>
    /// The histogram distance between consecutive frames at which a frame starts a new shot (<see cref="SceneCutDetector"/>;
    /// the tracker carries no track into it by position, and ends the tracks not in view at the cut). Null: no cut is looked for.
    /// </summary>
    public double? SceneCutThreshold { get; init; } = SceneCutDetector.DefaultThreshold;

    /// <summary>Stop after this many frames (a camera, a test); null: until the input ends.</summary>
    public long? MaxFrames { get; init; }

    internal void Validate()
    {
        if (DetectEvery < 1) throw new ArgumentOutOfRangeException(nameof(DetectEvery), DetectEvery, "must be at least 1");
        if (MaxFrames is < 1) throw new ArgumentOutOfRangeException(nameof(MaxFrames), MaxFrames, "must be at least 1");
        if (DetectWorkers < 1) throw new ArgumentOutOfRangeException(nameof(DetectWorkers), DetectWorkers, "must be at least 1");
        if (SettledEmbeddings < 0) throw new ArgumentOutOfRangeException(nameof(SettledEmbeddings), SettledEmbeddings, "must be at least 0");
        if (SettledEmbedEvery < 1) throw new ArgumentOutOfRangeException(nameof(SettledEmbedEvery), SettledEmbedEvery, "must be at least 1");
        if (SceneCutThreshold is { } c && !(c is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(SceneCutThreshold), c, "must be in (0, 1]");
    }
}

/// <summary>Why a video run stopped.</summary>
public enum VideoStop
{
    /// <summary>The input ended.</summary>
    End,
    /// <summary><see cref="VideoPipelineOptions.MaxFrames"/> frames were done.</summary>
    FrameLimit,
    /// <summary>The run was cancelled (Ctrl-C).</summary>
    Cancelled,
    /// <summary>The input failed mid-way (a stream dropped, a decode error); <see cref="VideoRunResult.Error"/> says how.</summary>
    InputFailed,
}

/// <summary>What a run did: frames done (each written to the video and the timeline), how it stopped, and the summary.</summary>
/// <param name="Frames">Frames read, analysed and written.</param>
/// <param name="DetectedFrames">Frames the detector ran on.</param>
/// <param name="Elapsed">Wall time of the run (from the first frame read to the last written).</param>
/// <param name="Stop">Why it stopped.</param>
/// <param name="Error">For <see cref="VideoStop.InputFailed"/>: one line naming the input and the cause.</param>
/// <param name="Summary">The tracker's summary: tracks, names, groups of strangers.</param>
public sealed record VideoRunResult(long Frames, long DetectedFrames, TimeSpan Elapsed, VideoStop Stop, string? Error, VideoSummary Summary)
{
    /// <summary>Time spent in each stage's work, summed over frames: detect, embed (align + embedder), track, draw,
    /// encode (writing to ffmpeg's pipe, i.e. waiting for the encoder), timeline; for --verbose and the measurements.</summary>
    public IReadOnlyDictionary<string, TimeSpan> StageTimes { get; init; } = new Dictionary<string, TimeSpan>();

    /// <summary>The frames written that start a new shot (<see cref="VideoPipelineOptions.SceneCutThreshold"/>), in order.</summary>
    public IReadOnlyList<long> SceneCuts { get; init; } = [];
}

/// <summary>
/// Detects, tracks, names and draws the faces of a video: frames from a <see cref="VideoReader"/>, detection (and
/// embedding) every <see cref="VideoPipelineOptions.DetectEvery"/> frames, <see cref="FaceTracker"/> in between, each
/// frame drawn with its tracks' boxes, ids and names and written to a <see cref="VideoWriter"/>, and its line to a
/// <see cref="TimelineWriter"/>. Every frame read is written to both, in order, or none is (a run stopped early
/// writes the frames before the stop).
/// </summary>
/// <remarks>
/// Three stages overlap on their own threads, joined by short bounded queues: decoding (the reader's thread reading
/// ffmpeg's pipe; ffmpeg decodes in its own process), analysis (the calling thread: MTCNN on one ONNX Runtime thread,
/// the embedder, the tracker), and output (drawing on a reused Skia bitmap, then the encoder's pipe and the
/// timeline). On two cores the analysis is the long stage; the others run while it waits on nothing.
/// </remarks>
public sealed class VideoPipeline
{
    /// <summary>Frames queued between two stages: enough to ride out a slow frame, few enough to bound memory (a
    /// 1080p frame is 6 MB) and the delay behind a live source.</summary>
    private const int QueueLength = 3;

    private readonly FaceRecognizer _recognizer;
    private readonly FaceTracker _tracker;
    private readonly VideoPipelineOptions _options;

    /// <summary>A pipeline detecting and embedding with <paramref name="recognizer"/> and tracking with <paramref name="tracker"/> (one video per tracker).</summary>
    public VideoPipeline(FaceRecognizer recognizer, FaceTracker tracker, VideoPipelineOptions? options = null)
    {
        _recognizer = recognizer ?? throw new ArgumentNullException(nameof(recognizer));
        _tracker = tracker ?? throw new ArgumentNullException(nameof(tracker));
        _options = options ?? new VideoPipelineOptions();
        _options.Validate();
    }

    /// <summary>
    /// Runs until the input ends, fails, <see cref="VideoPipelineOptions.MaxFrames"/> or <paramref name="cancel"/>;
    /// <paramref name="frameDone"/> is called (on the output thread) with the count of frames written. The writer and
    /// timeline are not completed here (the caller completes them, whatever happened). Throws when the encoder or the
    /// timeline fails (the frames before stay written); an input that fails mid-way is a result, not an exception.
    /// </summary>
    public VideoRunResult Run(VideoReader reader, VideoWriter? writer, TimelineWriter? timeline, Action<long>? frameDone = null,
        CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (writer is not null && (writer.Width != reader.Width || writer.Height != reader.Height))
            throw new ArgumentException($"the writer is {writer.Width}x{writer.Height}, the video {reader.Width}x{reader.Height}");
        var clock = Stopwatch.StartNew();
        double fps = reader.FramesPerSecond > 0 ? reader.FramesPerSecond : 25;
        var pool = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        var decoded = Channel.CreateBounded<(long Index, byte[] Pixels, bool Cut)>(new BoundedChannelOptions(QueueLength) { SingleReader = true, SingleWriter = true });
        var analysed = Channel.CreateBounded<(long Index, byte[] Pixels, IReadOnlyList<TrackedFace> Faces)>(new BoundedChannelOptions(QueueLength) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // cancelled only when the output fails: a frame the tracker has taken is always handed to the output, also after
        // Ctrl-C, so that the summary (the tracker's) holds no frame the video and timeline do not (VideoPipeline used to
        // drop the frame whose hand-off was waiting when Ctrl-C came: a track's last frame one past the frames written)
        using var outputFailed = new CancellationTokenSource();

        // decode: frames off ffmpeg's pipe into pooled buffers, each compared with the one before for a scene cut
        long limit = _options.MaxFrames ?? long.MaxValue;
        var shots = _options.SceneCutThreshold is { } cutAt ? new SceneCutDetector(reader.Width, reader.Height, cutAt) : null;
        var decodeThread = new Thread(() =>
        {
            try
            {
                for (long i = 0; i < limit && !stop.IsCancellationRequested; i++)
                {
                    if (!pool.TryTake(out var buffer)) buffer = new byte[reader.FrameBytes];
                    if (!reader.Read(buffer)) break;
                    bool cut = shots?.Next(buffer) ?? false;
                    decoded.Writer.WriteAsync((i, buffer, cut), stop.Token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException) { }
            catch (ChannelClosedException) { }
            finally { decoded.Writer.TryComplete(); }
        }) { IsBackground = true, Name = "video decode" };

        // output: draw, encode, timeline
        Exception? outputError = null;
        long written = 0;
        var times = new long[6]; // Stopwatch ticks: detect, embed, track, draw, encode, timeline
        var outputThread = new Thread(() =>
        {
            try
            {
                using var bitmap = new SKBitmap(new SKImageInfo(reader.Width, reader.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
                using var canvas = new SKCanvas(bitmap);
                foreach (var (index, pixels, faces) in analysed.Reader.ReadAllAsync().ToBlockingEnumerable())
                {
                    long t0 = Stopwatch.GetTimestamp();
                    if (writer is not null)
                    {
                        SkiaPixels.ToRgba(pixels, bitmap.GetPixelSpan());
                        if (faces.Count > 0) FaceDrawing.DrawFaces(canvas, reader.Width, reader.Height, faces.Select(Label));
                        canvas.Flush();
                        long t1 = Stopwatch.GetTimestamp();
                        writer.Write(bitmap.GetPixelSpan());
                        times[3] += t1 - t0;
                        times[4] += Stopwatch.GetTimestamp() - t1;
                    }
                    long t2 = Stopwatch.GetTimestamp();
                    timeline?.Write(index, TimeSpan.FromSeconds(index / fps), faces);
                    times[5] += Stopwatch.GetTimestamp() - t2;
                    pool.Add(pixels);
                    written++;
                    frameDone?.Invoke(written);
                }
            }
            catch (Exception e)
            {
                outputError = e;
                outputFailed.Cancel(); // nothing more can be written
                stop.Cancel(); // the analysis stops taking frames, the decoder stops reading
                reader.Stop();
                while (analysed.Reader.TryRead(out _)) { }
            }
        }) { IsBackground = true, Name = "video output" };

        decodeThread.Start();
        outputThread.Start();
        long detectedFrames = 0;
        // frames in order, each with its detection running (or null on a frame without one); the head is tracked once
        // its detection is done, so DetectWorkers frames are detected at once while the tracker takes them in order
        var pending = new Queue<(long Index, byte[] Pixels, bool Cut, Task<List<TrackDetection>>? Detection)>();
        var cuts = new List<long>();
        int running = 0;
        // which faces need no embedding, as the tracker stood after each detection run: run r uses run r - workers's,
        // the newest one certain to be tracked when r starts, so the choice does not depend on thread timing
        var settledAfter = new Dictionary<long, (List<FaceBox>, List<FaceBox>)>();
        long trackedRuns = 0;
        bool TrackHead()
        {
            var (index, pixels, cut, detection) = pending.Dequeue();
            List<TrackDetection>? detections = null;
            if (detection is not null)
            {
                detections = detection.GetAwaiter().GetResult();
                running--;
            }
            long t0 = Stopwatch.GetTimestamp();
            var faces = _tracker.Update(checked((int)index), TimeSpan.FromSeconds(index / fps), detections, cut);
            if (cut) cuts.Add(index);
            if (detection is not null)
            {
                settledAfter[trackedRuns] = SettledFaces(faces, trackedRuns + _options.DetectWorkers);
                settledAfter.Remove(trackedRuns - _options.DetectWorkers);
                trackedRuns++;
            }
            times[2] += Stopwatch.GetTimestamp() - t0;
            // a full queue blocks here; only the output thread's failure cancels the wait (not Ctrl-C: see outputFailed)
            try { analysed.Writer.WriteAsync((index, pixels, faces), outputFailed.Token).AsTask().GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { return false; }
            return true;
        }
        try
        {
            bool going = true;
            foreach (var (index, pixels, cut) in decoded.Reader.ReadAllAsync().ToBlockingEnumerable())
            {
                if (stop.IsCancellationRequested) break;
                Task<List<TrackDetection>>? detection = null;
                if (index % _options.DetectEvery == 0)
                {
                    var image = new RgbImage(reader.Width, reader.Height, pixels);
                    var settled = settledAfter.GetValueOrDefault(detectedFrames - _options.DetectWorkers, ([], []));
                    detection = Task.Run(() => Detect(image, settled, times));
                    detectedFrames++;
                    running++;
                }
                pending.Enqueue((index, pixels, cut, detection));
                while (going && pending.Count > 0 && (running >= _options.DetectWorkers || pending.Peek().Detection is null or { IsCompleted: true }))
                    going = TrackHead();
                if (!going) break;
            }
            while (going && pending.Count > 0 && !stop.IsCancellationRequested) going = TrackHead();
        }
        catch
        {
            // let detections in flight finish before the frames they read go back to the pool or away
            foreach (var p in pending) try { p.Detection?.Wait(); } catch (AggregateException) { }
            throw;
        }
        finally
        {
            // stops the decoder when the analysis ended early (cancel, an exception); a no-op after the input ended
            if (stop.IsCancellationRequested || decodeThread.IsAlive)
            {
                stop.Cancel();
                reader.Stop();
            }
            analysed.Writer.TryComplete();
            decodeThread.Join();
            outputThread.Join();
        }
        if (outputError is not null) throw outputError is VideoException ? outputError : new IOException(outputError.Message, outputError);

        VideoStop how = cancel.IsCancellationRequested ? VideoStop.Cancelled
            : written >= limit ? VideoStop.FrameLimit
            : reader.Error is not null ? VideoStop.InputFailed
            : VideoStop.End;
        string? error = how == VideoStop.InputFailed ? $"{reader.Input}: {reader.Error}" : null;
        string[] stages = ["detect", "embed", "track", "draw", "encode", "timeline"];
        return new VideoRunResult(written, detectedFrames, clock.Elapsed, how, error, _tracker.Summarize())
        {
            StageTimes = stages.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => Stopwatch.GetElapsedTime(0, times[p.i])),
            SceneCuts = cuts.Where(c => c < written).ToList(),
        };
    }

    /// <summary>
    /// The boxes (in <paramref name="last"/>, a tracked frame) of tracks that need no embedding on detection run
    /// <paramref name="forRun"/> (see
    /// <see cref="VideoPipelineOptions.SettledEmbeddings"/>), and every box of that frame to judge overlaps by.
    /// Called on the analysis thread, which alone updates the tracker.
    /// </summary>
    private (List<FaceBox> Settled, List<FaceBox> All) SettledFaces(IReadOnlyList<TrackedFace> last, long forRun)
    {
        var settled = new List<FaceBox>();
        if (_options.SettledEmbeddings == 0 || forRun % _options.SettledEmbedEvery == 0) return (settled, []);
        var tracks = _tracker.Tracks;
        foreach (var f in last)
            if (f.Track >= 1 && f.Track <= tracks.Count && tracks[f.Track - 1].EmbeddingCount >= _options.SettledEmbeddings) settled.Add(f.Box);
        return (settled, last.Select(f => f.Box).ToList());
    }

    /// <summary>The frame's faces, each with its embedding and aligned chip when embedding is on and the face needs one.</summary>
    private List<TrackDetection> Detect(RgbImage image, (List<FaceBox> Settled, List<FaceBox> All) settled, long[] times)
    {
        long t0 = Stopwatch.GetTimestamp();
        var faces = _recognizer.Detect(image);
        long t1 = Stopwatch.GetTimestamp();
        Interlocked.Add(ref times[0], t1 - t0);
        if (!_options.Embed || faces.Count == 0) return faces.Select(f => new TrackDetection(f)).ToList();
        // a face continues a settled track when it overlaps that track's box well and no other box of the frame
        bool Settled(DetectedFace f) =>
            settled.Settled.Any(b => FaceTracker.Iou(b, f.Box) >= 0.5f) && settled.All.Count(b => FaceTracker.Iou(b, f.Box) > 0.1f) == 1;
        var needed = faces.Where(f => !Settled(f)).ToList();
        var chips = needed.Select(f => _recognizer.Align(image, f)).ToList();
        var vectors = chips.Count > 0 ? _recognizer.EmbedAligned(chips) : [];
        Interlocked.Add(ref times[1], Stopwatch.GetTimestamp() - t1);
        var result = new List<TrackDetection>(faces.Count);
        for (int i = 0, j = 0; i < faces.Count; i++)
        {
            if (j < needed.Count && ReferenceEquals(needed[j], faces[i])) { result.Add(new TrackDetection(faces[i], vectors[j], chips[j])); j++; }
            else result.Add(new TrackDetection(faces[i]));
        }
        return result;
    }

    private static readonly SKColor Unknown = new(255, 200, 0);

    /// <summary>"#3 name" in green for a named track, "#3" (or "#3 ?" while unnamed) in yellow.</summary>
    private static FaceDrawing.LabelledFace Label(TrackedFace f) => new(f.Box, f.Landmarks,
        f.Name is null ? $"#{f.Track}" : $"#{f.Track} {f.Name}", f.Name is null ? Unknown : FaceDrawing.Detected);
}
