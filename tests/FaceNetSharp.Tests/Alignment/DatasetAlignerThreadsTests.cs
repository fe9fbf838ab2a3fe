using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Alignment;

/// <summary>
/// <see cref="DatasetAligner"/> runs its workers on threads of its own (with thread-pool workers, the run's three
/// blocking writer loops held the pool's threads on a 2-core machine and the second worker began 1-2 s late), and
/// reuses decoded images' pixel arrays.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class DatasetAlignerThreadsTests(InstalledModelsFixture fx)
{
    /// <summary>The real detector, recording on which threads it runs and how many calls overlap.</summary>
    private sealed class WatchedDetector(IFaceDetector inner) : IFaceDetector
    {
        private int _inFlight;
        public int MostAtOnce;
        public int OnPoolThreads;
        public readonly HashSet<int> Threads = [];
        // the first two calls wait for each other (at most 30 s), so two workers must be running at once
        private readonly Barrier _firstTwo = new(2);
        private int _calls;

        public IReadOnlyList<DetectedFace> Detect(RgbImage image)
        {
            lock (Threads) Threads.Add(Environment.CurrentManagedThreadId);
            if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref OnPoolThreads);
            if (Interlocked.Increment(ref _calls) <= 2) _firstTwo.SignalAndWait(TimeSpan.FromSeconds(30));
            int now = Interlocked.Increment(ref _inFlight);
            int seen;
            while ((seen = Volatile.Read(ref MostAtOnce)) < now && Interlocked.CompareExchange(ref MostAtOnce, now, seen) != seen) { }
            try
            {
                return inner.Detect(image);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    [SkippableFact]
    public void Two_workers_run_at_once_on_threads_of_their_own()
    {
        var photos = TestPaths.Shared("faces", "facenet-sandberg", "data", "images");
        using var detector = MtcnnDetector.FromStore(fx.Require());
        using var folder = new TempFolder();
        for (int i = 0; i < 6; i++)
        {
            var person = Directory.CreateDirectory(folder.Combine("raw", $"P{i}")).FullName;
            File.Copy(Path.Combine(photos, "Anthony_Hopkins_0001.jpg"), Path.Combine(person, $"P{i}_0001.jpg"));
        }
        var watched = new WatchedDetector(detector);
        var summary = new DatasetAligner(watched, new DatasetAlignOptions { Workers = 2 }).Run(folder.Combine("raw"), folder.Combine("out"));

        Assert.Equal(6, summary.Aligned);
        Assert.False(summary.Cancelled);
        Assert.Equal(0, watched.OnPoolThreads);
        Assert.Equal(2, watched.MostAtOnce);
        Assert.Equal(2, watched.Threads.Count);
    }

    [SkippableFact]
    public void A_cancelled_run_says_so_and_keeps_what_it_wrote()
    {
        var photos = TestPaths.Shared("faces", "facenet-sandberg", "data", "images");
        using var detector = MtcnnDetector.FromStore(fx.Require());
        using var folder = new TempFolder();
        for (int i = 0; i < 8; i++)
        {
            var person = Directory.CreateDirectory(folder.Combine("raw", $"P{i}")).FullName;
            File.Copy(Path.Combine(photos, "Anthony_Hopkins_0002.jpg"), Path.Combine(person, $"P{i}_0001.jpg"));
        }
        using var cancel = new CancellationTokenSource();
        int done = 0;
        var summary = new DatasetAligner(detector, new DatasetAlignOptions { Workers = 2 }).Run(folder.Combine("raw"), folder.Combine("out"), r =>
        {
            if (Interlocked.Increment(ref done) == 2) cancel.Cancel();
        }, cancel.Token);

        Assert.True(summary.Cancelled);
        Assert.InRange(summary.Aligned, 2, 7);
        Assert.Equal(summary.Aligned, Directory.GetFiles(folder.Combine("out"), "*.png", SearchOption.AllDirectories).Length);
        Assert.Equal(summary.Aligned, File.ReadAllLines(Assert.Single(Directory.GetFiles(folder.Combine("out"), "bounding_boxes_*.txt"))).Length);
    }

    [SkippableFact]
    public void Reused_pixel_arrays_give_the_chips_of_freshly_decoded_images()
    {
        // two sizes, alternating, so that arrays of both sizes are returned and taken again by both workers
        var hopkins = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        var group = TestPaths.Shared("faces", "facenet-pytorch-test-images", "data", "multiface.jpg");
        using var detector = MtcnnDetector.FromStore(fx.Require());
        using var folder = new TempFolder();
        var sources = new List<(string Input, string Source)>();
        for (int i = 0; i < 8; i++)
        {
            var person = Directory.CreateDirectory(folder.Combine("raw", $"P{i}")).FullName;
            var source = i % 2 == 0 ? hopkins : group;
            var input = Path.Combine(person, $"P{i}_0001.jpg");
            File.Copy(source, input);
            sources.Add((input, source));
        }
        var options = new DatasetAlignOptions { Workers = 2, DetectMultipleFaces = true };
        var summary = new DatasetAligner(detector, options).Run(folder.Combine("raw"), folder.Combine("out"));
        Assert.Equal(8, summary.Aligned);

        var aligner = new FaceAligner(options.Alignment);
        for (int i = 0; i < sources.Count; i++)
        {
            var image = ImageLoader.Load(sources[i].Source);
            var faces = detector.Detect(image);
            Assert.NotEmpty(faces);
            for (int k = 0; k < faces.Count; k++)
            {
                var expected = ImageWriter.Encode(aligner.Align(image, faces[k]), ImageFileFormat.Png);
                Assert.Equal(expected, File.ReadAllBytes(folder.Combine("out", $"P{i}", $"P{i}_0001_{k}.png")));
            }
        }
    }
}
