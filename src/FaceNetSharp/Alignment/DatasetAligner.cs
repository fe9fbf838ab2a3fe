using System.Collections.Concurrent;
using System.Diagnostics;
using FaceNetSharp.Detection;
using FaceNetSharp.Diagnostics;
using FaceNetSharp.IO;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Alignment;

/// <summary>Settings of a dataset alignment run (facenet's align_dataset_mtcnn.py flags).</summary>
public sealed record DatasetAlignOptions
{
    /// <summary>How each face is cut out (mode, size, margin, template).</summary>
    public FaceAlignerOptions Alignment { get; init; } = new();

    /// <summary>Process images in random order, so several processes can share one output folder (facenet --random_order).</summary>
    public bool RandomOrder { get; init; }

    /// <summary>Write every face of a photo (<c>Name_0001_0.png</c>, <c>_1</c>, …) instead of the one facenet picks.</summary>
    public bool DetectMultipleFaces { get; init; }

    /// <summary>Images processed at once (each detection uses one thread).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed of the random order and of the bounding-box file's name; null for a fresh one.</summary>
    public int? Seed { get; init; }

    /// <summary>Image format of the outputs, by extension (".png" as facenet, or ".jpg").</summary>
    public string OutputExtension { get; init; } = ".png";
}

/// <summary>What happened to one input image.</summary>
public enum AlignOutcome
{
    /// <summary>At least one face was written.</summary>
    Aligned,
    /// <summary>The output already existed (a resumed run, or another process did it).</summary>
    Skipped,
    /// <summary>The image was read but no face was found.</summary>
    NoFace,
    /// <summary>The file could not be read or written; <see cref="AlignItemResult.Error"/> says why.</summary>
    Failed,
}

/// <summary>The result of one input image. Paths are absolute.</summary>
public sealed record AlignItemResult(string InputPath, AlignOutcome Outcome, IReadOnlyList<string> Outputs, string? Error);

/// <summary>Counts of a finished (or cancelled) run.</summary>
public sealed record DatasetAlignSummary(
    int Total, int Aligned, int Skipped, int NoFace, int Failed, string BoundingBoxesFile, TimeSpan Elapsed, bool Cancelled)
{
    /// <summary>Images looked at in this run (not skipped).</summary>
    public int Processed => Aligned + NoFace + Failed;
}

/// <summary>
/// facenet's align_dataset_mtcnn.py: walks <c>INPUT/Class/image</c>, detects faces, aligns them and writes
/// <c>OUTPUT/Class/image.png</c>, plus <c>bounding_boxes_NNNNN.txt</c> (one line per image: output path and box,
/// or the path alone when no face was aligned). Resumable (existing outputs are skipped), every output written
/// atomically, and a bad file is reported and skipped without stopping the run.
/// </summary>
public sealed class DatasetAligner
{
    private readonly IFaceDetector _detector;
    private readonly DatasetAlignOptions _options;
    private readonly FaceAligner _aligner;

    /// <summary>
    /// An aligner that finds faces with <paramref name="detector"/> (not disposed by it) and crops or warps them as
    /// <paramref name="options"/> say. The images the detector is given are valid during its call only: their pixel
    /// arrays are reused for later images.
    /// </summary>
    public DatasetAligner(IFaceDetector detector, DatasetAlignOptions? options = null)
    {
        _detector = detector;
        _options = options ?? new DatasetAlignOptions();
        if (_options.Workers < 1) throw new ArgumentOutOfRangeException(nameof(options), "Workers must be at least 1");
        _aligner = new FaceAligner(_options.Alignment);
        _pixels = new PixelPool(_options.Workers);
    }

    // The pixel arrays of finished images, reused for the next image of the same size: a decoded image is a large
    // object (250x250 RGB is 187 kB, 1920x1080 6.2 MB), and a fresh one per image left the large-object heap to grow
    // between full collections: peak RSS of 20 1080p frames, 2 workers, 239-258 MB, and 230-234 MB with the arrays reused
    // (alternating runs, load 7-10; on 300 LFW photos 129-130 against 138-139 MB: with fewer large allocations, fewer
    // full collections; far from any limit there).
    private readonly PixelPool _pixels;

    /// <summary>At most <c>capacity</c> free pixel arrays, any sizes; an array of the size asked for, else a new one.</summary>
    private sealed class PixelPool(int capacity)
    {
        private readonly List<byte[]> _free = [];

        public byte[] Rent(int length)
        {
            lock (_free)
            {
                int i = _free.FindIndex(a => a.Length == length);
                if (i >= 0)
                {
                    var a = _free[i];
                    _free.RemoveAt(i);
                    return a;
                }
            }
            return new byte[length];
        }

        public void Return(byte[] array)
        {
            lock (_free)
            {
                if (_free.Count >= capacity) _free.RemoveAt(0);
                _free.Add(array);
            }
        }
    }

    /// <summary>
    /// The input files as (path, class folder relative to the input root; "" for files in the root itself),
    /// sorted as facenet does (classes, then files, by name). Hidden files are ignored. A class folder that cannot
    /// be listed is left out and reported to <paramref name="onUnreadable"/> (a sentence naming it and the cause);
    /// without a handler it is thrown as an <see cref="IOException"/>.
    /// </summary>
    public static List<(string Path, string Class)> ListInputs(string inputDir, Action<string>? onUnreadable = null)
    {
        if (!Directory.Exists(inputDir)) throw new DirectoryNotFoundException($"input folder not found: {inputDir}");
        var result = new List<(string, string)>();
        foreach (var f in Directory.GetFiles(inputDir).Order(StringComparer.Ordinal))
            if (!IsHidden(f)) result.Add((f, ""));
        // the class folders as the dataset reader walks them (ordinal, hidden folders and files left out)
        foreach (var c in Recognition.FaceDataset.Load(inputDir, onUnreadable))
            foreach (var f in c.ImagePaths) result.Add((f, c.Name));
        return result;
    }

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>
    /// Aligns the whole tree. <paramref name="onItem"/> is called once per image, from worker threads, and once
    /// (as <see cref="AlignOutcome.Failed"/>, with the folder as <see cref="AlignItemResult.InputPath"/>) per class
    /// folder that cannot be listed; the rest is aligned.
    /// </summary>
    /// <exception cref="IOException">The output folder cannot be made or written to (the message names it and the cause).</exception>
    public DatasetAlignSummary Run(string inputDir, string outputDir, Action<AlignItemResult>? onItem = null, CancellationToken cancellation = default)
    {
        var sw = Stopwatch.StartNew();
        var unreadable = new List<string>();
        var inputs = ListInputs(inputDir, unreadable.Add);
        var random = _options.Seed is { } s ? new Random(s) : new Random();
        if (_options.RandomOrder) random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(inputs));
        // facenet: bounding_boxes_%05d.txt with a random key, so that parallel processes write separate files.
        string bbPath;
        FileStream bbStream;
        try
        {
            Directory.CreateDirectory(outputDir);
            do bbPath = Path.Combine(outputDir, $"bounding_boxes_{random.Next(0, 100000):D5}.txt");
            while (File.Exists(bbPath));
            bbStream = new FileStream(bbPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write to the output folder {outputDir}: {OutputFolderProblem(outputDir, e)}", e);
        }
        // the temporary files of a run that was killed while writing (this run's own pattern only)
        AtomicFile.RemoveLeftovers(outputDir);
        foreach (var cls in inputs.Select(i => i.Class).Where(c => c.Length > 0).Distinct(StringComparer.Ordinal))
            AtomicFile.RemoveLeftovers(Path.Combine(outputDir, cls));

        int aligned = 0, skipped = 0, noFace = 0, failed = 0;
        foreach (var problem in unreadable)
        {
            failed++;
            onItem?.Invoke(new AlignItemResult(inputDir, AlignOutcome.Failed, [], problem));
        }
        var lines = new BlockingCollection<string>();
        using var bbFile = new StreamWriter(bbStream);
        // Every thread of a run is its own (not the thread pool's): the writers block on their queues for the whole run,
        // and on 2 cores the pool starts with 2 threads and adds one about every half second when they are all taken,
        // so with pool threads the second worker began its first image 1-2 s after the first one (strace, 300 LFW photos).
        var boxWriter = new RunThread("bounding boxes", () =>
        {
            foreach (var line in lines.GetConsumingEnumerable())
            {
                bbFile.WriteLine(line);
                bbFile.Flush(); // a killed run keeps every line it reported
            }
        });

        // Workers detect, align and encode; the files are written (each flushed to disk, which waits on the disk, not
        // the CPU) by writer threads, so that a worker goes on to its next image meanwhile. The queue is bounded: at
        // most WriteQueue images' encoded chips wait (a few kB each).
        var pending = new BlockingCollection<PendingItem>(WriteQueue);
        Exception? writerFault = null;
        void Report(AlignItemResult result)
        {
            switch (result.Outcome)
            {
                case AlignOutcome.Aligned: Interlocked.Increment(ref aligned); break;
                case AlignOutcome.Skipped: Interlocked.Increment(ref skipped); break;
                case AlignOutcome.NoFace: Interlocked.Increment(ref noFace); break;
                default: Interlocked.Increment(ref failed); break;
            }
            onItem?.Invoke(result);
        }
        var writers = Enumerable.Range(0, Writers).Select(_ => new RunThread("writer", () =>
        {
            foreach (var item in pending.GetConsumingEnumerable())
            {
                try
                {
                    Report(WriteAll(item, lines));
                }
                catch (Exception e)
                {
                    // not an I/O problem of one file (those are results): keep draining, rethrow after the run
                    Interlocked.CompareExchange(ref writerFault, e, null);
                }
            }
        })).ToArray();

        // Workers take the next input in order until none is left, the run is cancelled, or one of them failed.
        int next = -1;
        Exception? workerFault = null;
        var workers = Enumerable.Range(0, Math.Min(_options.Workers, Math.Max(1, inputs.Count))).Select(_ => new RunThread("worker", () =>
        {
            try
            {
                while (!cancellation.IsCancellationRequested && Volatile.Read(ref workerFault) is null)
                {
                    int i = Interlocked.Increment(ref next);
                    if (i >= inputs.Count) break;
                    var item = ProcessOne(inputs[i].Path, inputs[i].Class, outputDir, lines);
                    if (item.Done is { } done) Report(done);
                    else pending.Add(item);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref workerFault, e, null);
            }
        })).ToArray();
        foreach (var w in workers) w.Join();
        pending.CompleteAdding();
        foreach (var w in writers) w.Join();
        lines.CompleteAdding();
        var linesFault = boxWriter.Join();
        foreach (var fault in new[] { workerFault, writerFault, linesFault })
            if (fault is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
        // cancelled: inputs were left untaken (a worker that finds none left has moved next past the end)
        bool cancelled = Volatile.Read(ref next) + 1 < inputs.Count;
        if (StageProfile.Enabled) Console.Error.Write(StageProfile.Report());
        return new DatasetAlignSummary(inputs.Count + unreadable.Count, aligned, skipped, noFace, failed, bbPath, sw.Elapsed, cancelled);
    }

    /// <summary>A background thread of the run (it does not keep a killed process alive) that keeps what it threw for <see cref="Join"/>.</summary>
    private sealed class RunThread
    {
        private readonly Thread _thread;
        private Exception? _fault;

        public RunThread(string name, Action body)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    body();
                }
                catch (Exception e)
                {
                    _fault = e;
                }
            }) { IsBackground = true, Name = $"align {name}" };
            _thread.Start();
        }

        /// <summary>Waits for the thread; what it threw, or null.</summary>
        public Exception? Join()
        {
            _thread.Join();
            return _fault;
        }
    }

    /// <summary>Why the output folder cannot be used, in words: a file standing where a folder must be, else the system's message.</summary>
    private static string OutputFolderProblem(string outputDir, Exception e)
    {
        for (var p = Path.GetFullPath(outputDir); !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
        {
            if (File.Exists(p)) return $"{p} is a file, not a folder";
            if (Directory.Exists(p)) break;
        }
        return e.Message;
    }

    /// <summary>
    /// The box written to bounding_boxes_*.txt: in crop mode the pixels cropped (box plus margin, clipped: facenet's
    /// bb), in similarity mode the detector's box truncated to whole pixels.
    /// </summary>
    private string BoxLine(DetectedFace face, RgbImage image)
    {
        if (_options.Alignment.Mode == AlignmentMode.Crop)
        {
            var r = FaceAligner.CropRegion(face.Box, _options.Alignment.Margin, image.Width, image.Height);
            return $"{r.X} {r.Y} {r.X + r.Width} {r.Y + r.Height}";
        }
        var b = face.Box;
        return $"{(int)b.X1} {(int)b.Y1} {(int)b.X2} {(int)b.Y2}";
    }

    /// <summary>Encoded chips of one image waiting to be written (<see cref="Done"/> null), or the image's final result.</summary>
    private sealed record PendingItem(string InputPath, List<(string Path, byte[] Bytes, string BoxLine)> Files, AlignItemResult? Done)
    {
        public static PendingItem Finished(AlignItemResult result) => new(result.InputPath, [], result);
    }

    // Writer threads and queued images: two writers overlap one file's flush to disk with the next; 64 queued images
    // (their encoded chips) let the workers run ahead of a slow disk for a while without holding much memory.
    private const int Writers = 2;
    private const int WriteQueue = 64;

    /// <summary>Writes an image's chips in order (each atomically) and lists them in the bounding-box file.</summary>
    private static AlignItemResult WriteAll(PendingItem item, BlockingCollection<string> lines)
    {
        var outputs = new List<string>();
        try
        {
            foreach (var (path, bytes, boxLine) in item.Files)
            {
                using (StageProfile.Time(StageProfile.Stage.Write))
                    AtomicFile.Write(path, bytes);
                outputs.Add(path);
                lines.Add($"{path} {boxLine}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new AlignItemResult(item.InputPath, AlignOutcome.Failed, outputs, $"{item.InputPath}: cannot write output: {e.Message}");
        }
        return new AlignItemResult(item.InputPath, AlignOutcome.Aligned, outputs, null);
    }

    private PendingItem ProcessOne(string inputPath, string cls, string outputDir, BlockingCollection<string> lines)
    {
        var classDir = cls.Length == 0 ? outputDir : Path.Combine(outputDir, cls);
        var stem = Path.GetFileNameWithoutExtension(inputPath);
        var single = Path.Combine(classDir, stem + _options.OutputExtension);
        var firstOfMany = Path.Combine(classDir, $"{stem}_0{_options.OutputExtension}");
        if (File.Exists(single) || File.Exists(firstOfMany))
            return PendingItem.Finished(new AlignItemResult(inputPath, AlignOutcome.Skipped, [], null));

        RgbImage image;
        try
        {
            using (StageProfile.Time(StageProfile.Stage.Decode))
                image = ImageLoader.Load(inputPath, null, _pixels.Rent);
        }
        catch (ImageLoadException e)
        {
            lines.Add(single);
            return PendingItem.Finished(new AlignItemResult(inputPath, AlignOutcome.Failed, [], e.Message));
        }
        try
        {
            return Align(inputPath, image, classDir, stem, single, lines);
        }
        finally
        {
            _pixels.Return(image.Pixels); // nothing keeps the image: the chips are copies, encoded
        }
    }

    private PendingItem Align(string inputPath, RgbImage image, string classDir, string stem, string single, BlockingCollection<string> lines)
    {
        var faces = _detector.Detect(image);
        if (faces.Count == 0)
        {
            lines.Add(single); // facenet: 'Unable to align', path without a box
            return PendingItem.Finished(new AlignItemResult(inputPath, AlignOutcome.NoFace, [], null));
        }

        var chosen = _options.DetectMultipleFaces
            ? Enumerable.Range(0, faces.Count).ToList()
            : [FaceSelection.PickCentralLargest(faces, image.Width, image.Height)];
        var files = new List<(string, byte[], string)>(chosen.Count);
        try
        {
            Directory.CreateDirectory(classDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return PendingItem.Finished(new AlignItemResult(inputPath, AlignOutcome.Failed, [], $"{inputPath}: cannot write output: {e.Message}"));
        }
        for (int k = 0; k < chosen.Count; k++)
        {
            var face = faces[chosen[k]];
            var outPath = chosen.Count > 1 || _options.DetectMultipleFaces ? Path.Combine(classDir, $"{stem}_{k}{_options.OutputExtension}") : single;
            RgbImage chip;
            using (StageProfile.Time(StageProfile.Stage.AlignChip))
                chip = _aligner.Align(image, face);
            using (StageProfile.Time(StageProfile.Stage.Encode))
                files.Add((outPath, ImageWriter.Encode(chip, ImageWriter.FormatFromExtension(outPath)), BoxLine(face, image)));
        }
        return new PendingItem(inputPath, files, null);
    }
}
