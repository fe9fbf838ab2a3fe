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
    /// 2 by default: measured on this project's 2-core machine (README, video section), detection on every frame of
    /// the 640x360 clip runs below its 29.97 fps, on every second frame above it.
    /// </summary>
    public int DetectEvery { get; init; } = DefaultDetectEvery;

    /// <summary>The default of <see cref="DetectEvery"/>.</summary>
    public const int DefaultDetectEvery = 2;

    /// <summary>Embed the detected faces (needed to name tracks, re-identify them and group strangers). True by default.</summary>
    public bool Embed { get; init; } = true;

    /// <summary>Stop after this many frames (a camera, a test); null: until the input ends.</summary>
    public long? MaxFrames { get; init; }

    internal void Validate()
    {
        if (DetectEvery < 1) throw new ArgumentOutOfRangeException(nameof(DetectEvery), DetectEvery, "must be at least 1");
        if (MaxFrames is < 1) throw new ArgumentOutOfRangeException(nameof(MaxFrames), MaxFrames, "must be at least 1");
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
public sealed record VideoRunResult(long Frames, long DetectedFrames, TimeSpan Elapsed, VideoStop Stop, string? Error, VideoSummary Summary);

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
        var decoded = Channel.CreateBounded<(long Index, byte[] Pixels)>(new BoundedChannelOptions(QueueLength) { SingleReader = true, SingleWriter = true });
        var analysed = Channel.CreateBounded<(long Index, byte[] Pixels, IReadOnlyList<TrackedFace> Faces)>(new BoundedChannelOptions(QueueLength) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);

        // decode: frames off ffmpeg's pipe into pooled buffers
        long limit = _options.MaxFrames ?? long.MaxValue;
        var decodeThread = new Thread(() =>
        {
            try
            {
                for (long i = 0; i < limit && !stop.IsCancellationRequested; i++)
                {
                    if (!pool.TryTake(out var buffer)) buffer = new byte[reader.FrameBytes];
                    if (!reader.Read(buffer)) break;
                    decoded.Writer.WriteAsync((i, buffer), stop.Token).AsTask().GetAwaiter().GetResult();
                }
            }
            catch (OperationCanceledException) { }
            catch (ChannelClosedException) { }
            finally { decoded.Writer.TryComplete(); }
        }) { IsBackground = true, Name = "video decode" };

        // output: draw, encode, timeline
        Exception? outputError = null;
        long written = 0;
        var outputThread = new Thread(() =>
        {
            try
            {
                using var bitmap = new SKBitmap(new SKImageInfo(reader.Width, reader.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
                using var canvas = new SKCanvas(bitmap);
                foreach (var (index, pixels, faces) in analysed.Reader.ReadAllAsync().ToBlockingEnumerable())
                {
                    if (writer is not null)
                    {
                        SkiaPixels.ToRgba(pixels, bitmap.GetPixelSpan());
                        if (faces.Count > 0) FaceDrawing.DrawFaces(canvas, reader.Width, reader.Height, faces.Select(Label));
                        canvas.Flush();
                        writer.Write(bitmap.GetPixelSpan());
                    }
                    timeline?.Write(index, TimeSpan.FromSeconds(index / fps), faces);
                    pool.Add(pixels);
                    written++;
                    frameDone?.Invoke(written);
                }
            }
            catch (Exception e)
            {
                outputError = e;
                stop.Cancel(); // the analysis stops taking frames, the decoder stops reading
                reader.Stop();
                while (analysed.Reader.TryRead(out _)) { }
            }
        }) { IsBackground = true, Name = "video output" };

        decodeThread.Start();
        outputThread.Start();
        long detectedFrames = 0;
        try
        {
            foreach (var (index, pixels) in decoded.Reader.ReadAllAsync().ToBlockingEnumerable())
            {
                if (stop.IsCancellationRequested) break;
                var image = new RgbImage(reader.Width, reader.Height, pixels);
                IReadOnlyList<TrackDetection>? detections = null;
                if (index % _options.DetectEvery == 0)
                {
                    detections = Detect(image);
                    detectedFrames++;
                }
                var faces = _tracker.Update(checked((int)index), TimeSpan.FromSeconds(index / fps), detections);
                // a full queue blocks here; only the output thread's failure cancels the wait
                try { analysed.Writer.WriteAsync((index, pixels, faces), stop.Token).AsTask().GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { break; }
            }
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
        return new VideoRunResult(written, detectedFrames, clock.Elapsed, how, error, _tracker.Summarize());
    }

    /// <summary>The frame's faces, each with its embedding and aligned chip when embedding is on.</summary>
    private List<TrackDetection> Detect(RgbImage image)
    {
        var faces = _recognizer.Detect(image);
        if (!_options.Embed || faces.Count == 0) return faces.Select(f => new TrackDetection(f)).ToList();
        var chips = faces.Select(f => _recognizer.Align(image, f)).ToList();
        var vectors = _recognizer.EmbedAligned(chips);
        return faces.Select((f, i) => new TrackDetection(f, vectors[i], chips[i])).ToList();
    }

    private static readonly SKColor Unknown = new(255, 200, 0);

    /// <summary>"#3 name" in green for a named track, "#3" (or "#3 ?" while unnamed) in yellow.</summary>
    private static FaceDrawing.LabelledFace Label(TrackedFace f) => new(f.Box, f.Landmarks,
        f.Name is null ? $"#{f.Track}" : $"#{f.Track} {f.Name}", f.Name is null ? Unknown : FaceDrawing.Detected);
}
