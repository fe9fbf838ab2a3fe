using System.CommandLine;
using System.Text.Json;
using FaceNetSharp.Cli.Options;
using FaceNetSharp.Embedding;
using FaceNetSharp.IO;
using FaceNetSharp.Recognition;
using FaceNetSharp.Video;
using FaceNetSharp.Video.Tracking;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet video INPUT [--gallery G] [--out OUT.mp4] [--json TIMELINE.jsonl]</c>: detects, tracks and names the faces
/// of a video file, a camera (<c>/dev/video0</c>) or a stream URL; writes the annotated video, the per-frame
/// timeline and a summary of who appears when.
/// </summary>
internal static class VideoCommand
{
    public static Command Create(CliContext ctx)
    {
        var input = new Argument<string>("INPUT") { Description = "A video file, a camera (/dev/video0) or a stream URL (rtsp://, http://)" };
        var gallery = new Option<string?>("--gallery") { Description = "Gallery file (facenet gallery add) to name the tracks from; without it tracks have ids only" };
        var output = new Option<string?>("--out") { Description = "Annotated video to write (.mp4: every input frame, with boxes, track ids and names)" };
        var json = new Option<string?>("--json") { Description = "JSONL timeline to write, one line per frame: {frame, time, faces: [{track, box, landmarks, name, distance, detected}]}; '-' for stdout" };
        var summary = new Option<string?>("--summary") { Description = "Write the summary as JSON (tracks, who appears when, groups of unknown faces) to this file; '-' for stdout" };
        var chipsDir = new Option<string?>("--chips") { Description = "Save each track's best chips (detector score x frontality) as PNG in this folder: DIR/track-0007/frame-000123.png; listed in --summary" };
        var every = new Option<int>("--detect-every") { Description = $"Run the detector on every k-th frame; the tracker follows the faces in between (default {VideoPipelineOptions.DefaultDetectEvery}, measured: real time on 2 cores at 640x360)", DefaultValueFactory = _ => VideoPipelineOptions.DefaultDetectEvery };
        var maxFrames = new Option<long?>("--max-frames") { Description = "Stop after this many frames (a camera or stream runs until Ctrl-C otherwise)" };
        var naming = new Option<TrackNaming>("--naming") { Description = "How a track's embeddings are combined against the gallery: mean (one identification of the normalised mean) or vote", DefaultValueFactory = _ => TrackNaming.Mean };
        var model = ModelOption.Create();
        var threshold = new Option<float?>("--threshold") { Description = "Distance at or above which a track is unknown (overrides --fpir and --far)" };
        var rates = new IdentificationCliOptions(threshold);
        var mtcnn = MtcnnCliOptions.Create("facenet's 20 up to 540 rows, in proportion above: 40 at 1080p");
        var cmd = new Command("video", "Detect, track and name the faces of a video file, camera or stream; write the annotated video and a timeline")
        {
            input, gallery, output, json, summary, chipsDir, every, maxFrames, naming, model,
        };
        rates.AddTo(cmd);
        mtcnn.AddTo(cmd);
        // on a worker thread, so that System.CommandLine's Ctrl-C handler sees the action started and waits for it to
        // finish the files (as facenet train does); a synchronous action is cut off at once with exit code 130
        cmd.SetAction((parse, cancel) => Task.Run(() => Run(parse, cancel), CancellationToken.None));
        return cmd;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            var source = parse.GetValue(input)!;
            var outPath = parse.GetValue(output);
            var jsonPath = parse.GetValue(json);
            var summaryPath = parse.GetValue(summary);
            if (jsonPath == "-" && summaryPath == "-") throw new ArgumentException("--json - and --summary - would both write to stdout; give one of them a file");
            if (outPath is not null && !outPath.EndsWith(".mp4", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out {outPath}: the video is written as .mp4; give a name ending in .mp4");
            var options = new VideoPipelineOptions { DetectEvery = parse.GetValue(every), MaxFrames = parse.GetValue(maxFrames) };
            if (options.DetectEvery < 1) throw new ArgumentException("--detect-every must be at least 1");
            if (options.MaxFrames is < 1) throw new ArgumentException("--max-frames must be at least 1");
            var galleryPath = parse.GetValue(gallery);
            if (galleryPath is not null && !File.Exists(galleryPath)) throw new ArgumentException($"{galleryPath}: no such gallery file (make one with 'facenet gallery add')");
            // a folder the chips cannot go to fails now, not after the whole video
            var chipsPath = parse.GetValue(chipsDir);
            if (chipsPath is not null) TrackChipFolder.EnsureWritable(chipsPath);
            var c = ctx.ForDocument(jsonPath == "-" || summaryPath == "-");

            // the input first: a file that is not a video or a missing camera fails before the models load
            using var reader = VideoReader.Open(source);
            // MTCNN's smallest face: --min-face-size, else 20 px up to 540 rows and in proportion above (40 at 1080p)
            var detection = mtcnn.Read(parse);
            if (!mtcnn.MinFaceSizeGiven(parse)) detection = detection with { MinFaceSize = VideoPipelineOptions.DefaultMinFaceSize(reader.Height) };
            c.Console.MarkupLineInterpolated($"{source}: {reader.Width}x{reader.Height}, {reader.FramesPerSecond:0.##} fps{(reader.EstimatedFrameCount is { } n ? $", about {n} frames" : reader.IsLive ? ", live (Ctrl-C stops)" : "")}; faces from {detection.MinFaceSize:0.#} px");
            // the embedder on one ONNX Runtime thread: frames are detected and embedded DetectWorkers at a time, and the
            // decoder and encoder (ffmpeg processes) want the rest of the cores; threads of one run would only contend
            using var recognizer = FaceRecognizer.Open(parse.GetValue(model)!, parse.GetValue(CliApp.ModelsDir), detection,
                new EmbedderOptions { Precision = CliApp.EmbeddingPrecisionOf(parse), Inference = new InferenceOptions { IntraOpThreads = 1 } },
                DetectCommand.ModelsLog(c));
            using var people = galleryPath is null ? null : FaceGallery.Open(galleryPath, recognizer.Model.Name, recognizer.Model.Dimensions, recognizer.Model.Metric);
            ThresholdChoice? choice = null;
            TrackNamer? namer = null;
            if (people is not null)
            {
                choice = rates.Read(parse, recognizer.Model, IdentificationThreshold.Comparisons(people.PeopleCount));
                if (people.FaceCount == 0) c.Errors.MarkupLineInterpolated($"[yellow]warning:[/] the gallery {people.FilePath} is empty: every track is unknown");
                namer = new TrackNamer(people, choice, parse.GetValue(naming));
            }
            var tracker = new FaceTracker(FaceTrackerOptions.For(recognizer.Model), namer);
            var pipeline = new VideoPipeline(recognizer, tracker, options);

            var writer = outPath is null ? null : VideoWriter.Create(outPath, reader.Width, reader.Height, reader.FramesPerSecond);
            TimelineWriter? timeline = null;
            VideoRunResult result;
            try
            {
                if (jsonPath is not null)
                {
                    // written as frames are done (a camera's timeline can be followed with tail -f), each line whole
                    var stream = jsonPath == "-" ? Console.OpenStandardOutput()
                        : OpenTimeline(jsonPath);
                    timeline = new TimelineWriter(stream);
                }
                result = reader.EstimatedFrameCount is { } total
                    ? CliProgress.RunPolled(c, "video", checked((int)Math.Min(total, int.MaxValue)),
                        done => pipeline.Run(reader, writer, timeline, _ => done(null), cancel), CancellationToken.None,
                        r => $"video [grey]({r.Frames / Math.Max(1e-3, r.Elapsed.TotalSeconds):F1} frames/s)[/]", rateUnit: "frames/s")
                    : pipeline.Run(reader, writer, timeline, null, cancel);
                writer?.Complete();
            }
            finally
            {
                writer?.Dispose(); // abandons the temporary file only when Complete did not run (the encoder failed)
                timeline?.Dispose();
            }

            // the chips of every track so far, also after Ctrl-C or a dropped stream; each file whole (atomic)
            var chips = new SortedDictionary<int, IReadOnlyList<SavedChip>>();
            string? chipsError = null;
            if (chipsPath is not null)
            {
                try { TrackChipFolder.Save(tracker.Tracks, chipsPath, chips, beforeFrame: result.Frames); }
                catch (IOException e) { chipsError = e.Message; }
            }
            PrintSummary(c, result, reader, choice, parse.GetValue(CliApp.Verbose));
            // FACENETSHARP_PROFILE=1: MTCNN's stage times (thread CPU), as facenet align prints them
            if (FaceNetSharp.Diagnostics.StageProfile.Enabled) Console.Error.Write(FaceNetSharp.Diagnostics.StageProfile.Report());
            if (chipsPath is not null && chipsError is null)
                c.Console.MarkupLineInterpolated($"{chips.Values.Sum(l => l.Count)} chip(s) of {chips.Count} track(s) in {chipsPath}");
            if (summaryPath is not null)
            {
                var doc = SummaryJson(result, reader, options, writer?.Encoder, choice, chipsPath is null ? null : chips, detection.MinFaceSize);
                if (summaryPath == "-") ctx.Out.WriteLine(doc);
                else AtomicFile.Write(summaryPath, System.Text.Encoding.UTF8.GetBytes(doc + "\n"));
            }
            var written = string.Join(" and ", new[] { outPath, jsonPath is null or "-" ? null : jsonPath }.Where(p => p is not null));
            // the video and timeline are whole whatever the chips did; the chips written before a failure too (listed in --summary)
            if (chipsError is not null) c.Errors.MarkupLineInterpolated($"[red]error:[/] {chipsError}");
            switch (result.Stop)
            {
                case VideoStop.Cancelled:
                    c.Errors.MarkupLineInterpolated($"[yellow]stopped (Ctrl-C) after {result.Frames} frames[/]{(written.Length > 0 ? $"; {written} hold them" : "")}");
                    return 130; // 128 + SIGINT, as CliApp reports a cancelled command
                case VideoStop.InputFailed:
                    c.Errors.MarkupLineInterpolated($"[red]error:[/] {result.Error}{(written.Length > 0 && result.Frames > 0 ? $"; {written} hold the {result.Frames} frames before" : "")}");
                    return result.Frames > 0 ? 1 : 2;
                default:
                    if (written.Length > 0) c.Console.MarkupLineInterpolated($"wrote {written}");
                    return chipsError is null ? 0 : 1;
            }
        }
    }

    private static FileStream OpenTimeline(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return new FileStream(full, FileMode.Create, FileAccess.Write, FileShare.Read);
    }

    private static void PrintSummary(CliContext c, VideoRunResult r, VideoReader reader, ThresholdChoice? choice, bool verbose)
    {
        var s = r.Summary;
        double fps = r.Frames / Math.Max(1e-3, r.Elapsed.TotalSeconds);
        c.Console.MarkupLineInterpolated($"{r.Frames} frames in {r.Elapsed.TotalSeconds:F1} s ({fps:F1} frames/s; the input runs at {reader.FramesPerSecond:0.##}), detector on {r.DetectedFrames}, {s.Tracks.Count} track(s)");
        if (r.SceneCuts.Count > 0)
            c.Console.MarkupLineInterpolated($"scene cut(s) at frame {string.Join(", ", r.SceneCuts)}: no track is carried across one by position");
        if (s.Tracks.Count > 0)
        {
            var table = new Table().AddColumns("track", "name", "distance", "from", "to", "frames seen");
            foreach (var t in s.Tracks)
            {
                table.AddRow(t.Track.ToString(),
                    t.Name is not null ? $"[green]{Markup.Escape(t.Name)}[/]" : t.Stranger is { } g ? $"[yellow]unknown (stranger {g})[/]" : "[yellow]unknown[/]",
                    t.Distance is { } d ? d.ToString("F3") : "-",
                    $"{t.FirstTime.TotalSeconds:F2} s", $"{t.LastTime.TotalSeconds:F2} s", t.FramesSeen.ToString());
            }
            c.Console.Write(table);
        }
        foreach (var (person, tracks) in s.People)
            c.Console.MarkupLineInterpolated($"[green]{person}[/]: track(s) {string.Join(", ", tracks)}");
        var strangers = s.Strangers.Where(g => g.Count > 1).ToList();
        if (strangers.Count > 0)
            c.Console.MarkupLineInterpolated($"{(strangers.Count == 1 ? "1 unknown person appears" : $"{strangers.Count} unknown people appear")} in more than one track: {string.Join("; ", strangers.Select(g => string.Join(", ", g)))}");
        if (verbose)
            c.Console.MarkupLineInterpolated($"[grey]stage times: {string.Join(", ", r.StageTimes.Select(kv => $"{kv.Key} {kv.Value.TotalSeconds:F2} s"))}[/]");
        if (choice is not null) c.Console.MarkupLineInterpolated($"[grey]names at distance < {choice.Threshold:F3} ({choice.Describe()})[/]");
    }

    /// <summary>The summary document: the run, then one entry per track, the people and the groups of strangers.</summary>
    internal static string SummaryJson(VideoRunResult r, VideoReader reader, VideoPipelineOptions options, string? encoder, ThresholdChoice? choice,
        IReadOnlyDictionary<int, IReadOnlyList<SavedChip>>? chips = null, double? minFaceSize = null)
    {
        var doc = new
        {
            input = reader.Input,
            width = reader.Width,
            height = reader.Height,
            fps = reader.FramesPerSecond,
            frames = r.Frames,
            detect_every = options.DetectEvery,
            detected_frames = r.DetectedFrames,
            min_face_size = minFaceSize,
            scene_cuts = r.SceneCuts,
            seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
            stopped = r.Stop switch { VideoStop.End => "end", VideoStop.FrameLimit => "max_frames", VideoStop.Cancelled => "cancelled", _ => "input_failed" },
            error = r.Error,
            encoder,
            threshold = choice?.Threshold,
            operating_point = choice?.Describe(),
            tracks = r.Summary.Tracks.Select(t => WithChips(new
            {
                track = t.Track,
                name = t.Name,
                distance = t.Distance,
                stranger = t.Stranger,
                first_frame = t.FirstFrame,
                last_frame = t.LastFrame,
                first_time = Math.Round(t.FirstTime.TotalSeconds, 3),
                last_time = Math.Round(t.LastTime.TotalSeconds, 3),
                frames_seen = t.FramesSeen,
                embeddings = t.Embeddings,
            }, chips is null ? null : (chips.TryGetValue(t.Track, out var saved) ? saved : []).Select(x => new
            {
                path = x.Path,
                frame = x.Chip.Frame,
                time = Math.Round(x.Chip.Time.TotalSeconds, 3),
                quality = Math.Round(x.Chip.Quality, 4),
                score = Math.Round(x.Chip.Score, 4),
                frontality = Math.Round(x.Chip.Frontality, 4),
                sharpness = Math.Round(x.Chip.Sharpness, 1),
            }))),
            people = r.Summary.People,
            strangers = r.Summary.Strangers,
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });

        // with --chips, the track's entry ends with "chips": the files written, best first, and why each is among the
        // best; without it the entry has no such key
        static System.Text.Json.Nodes.JsonObject WithChips(object track, object? chipList)
        {
            var node = JsonSerializer.SerializeToNode(track)!.AsObject();
            if (chipList is not null) node["chips"] = JsonSerializer.SerializeToNode(chipList);
            return node;
        }
    }
}
