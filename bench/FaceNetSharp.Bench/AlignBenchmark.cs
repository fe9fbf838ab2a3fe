using System.Diagnostics;
using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>align</c>: `facenet align` throughput (images/s) on LFW-sized 250x250 photos and on 1920-pixel-wide photos,
/// with peak memory; <c>embed</c>: embedding throughput per model and batch size, and end-to-end photos/s.
/// Photos are the six npm sample photos (fetched with npm, SHA-256 pinned), so the benchmark runs on any machine:
/// the 250x250 set is made of LFW-style crops around each of their faces (face about 40% of the frame, as in LFW).
/// </summary>
internal static class AlignBenchmark
{
    public static int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 200;
        var work = Directory.CreateTempSubdirectory("facenet-bench").FullName;
        try
        {
            var store = new ModelStore();
            store.EnsureInstalled();
            var samples = SamplePhotos.Ensure(Path.Combine(work, "samples"));
            using var detector = MtcnnDetector.FromStore(store);
            var lfwLike = MakeLfwLike(detector, samples, Path.Combine(work, "lfw250"), count);
            var large = Replicate(samples, Path.Combine(work, "large"), Math.Max(12, count / 10));

            Console.WriteLine($"align benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime CPU");
            Console.WriteLine("set                       images  workers  mode               seconds  images/s  peak WS MiB");
            foreach (var workers in new[] { 1, Environment.ProcessorCount })
            {
                Measure("250x250 (LFW-like)", lfwLike, work, workers, new FaceAlignerOptions { Mode = AlignmentMode.Crop, ImageSize = 160, Margin = 32 });
                Measure("250x250 (LFW-like)", lfwLike, work, workers, FaceAlignerOptions.ArcFace112);
                Measure("1920 px wide (samples)", large, work, workers, new FaceAlignerOptions { Mode = AlignmentMode.Crop, ImageSize = 160, Margin = 32 });
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void Measure(string name, string inputDir, string work, int workers, FaceAlignerOptions alignment)
    {
        var outDir = Path.Combine(work, "out-" + Guid.NewGuid().ToString("N"));
        // One detector per measurement so every run starts equal; intra-op threads 1, parallel over images.
        using var detector = MtcnnDetector.FromStore(new ModelStore());
        var aligner = new DatasetAligner(detector, new DatasetAlignOptions { Alignment = alignment, Workers = workers });
        // Warm-up on a copy (ONNX Runtime builds its kernels on first use).
        aligner.Run(inputDir, outDir + "-warm");
        var sw = Stopwatch.StartNew();
        var summary = aligner.Run(inputDir, outDir);
        sw.Stop();
        using var proc = Process.GetCurrentProcess();
        var mode = alignment.Mode == AlignmentMode.Crop ? $"crop {alignment.OutputSize}" : $"similarity {alignment.OutputSize}";
        Console.WriteLine($"{name,-25} {summary.Total,6}  {workers,7}  {mode,-17} {sw.Elapsed.TotalSeconds,8:F2}  {summary.Processed / sw.Elapsed.TotalSeconds,8:F1}  {proc.PeakWorkingSet64 / (1024 * 1024),11}");
        if (summary.Failed > 0 || summary.NoFace > 0) Console.WriteLine($"  ({summary.Failed} failed, {summary.NoFace} without a face)");
    }

    /// <summary>LFW-style 250x250 crops: a square of 2.5 face widths around each detected face, resized.</summary>
    private static string MakeLfwLike(MtcnnDetector detector, IReadOnlyList<string> photos, string dir, int count)
    {
        var crops = new List<RgbImage>();
        foreach (var p in photos)
        {
            var image = ImageLoader.Load(p);
            foreach (var f in detector.Detect(image))
            {
                float cx = (f.Box.X1 + f.Box.X2) / 2, cy = (f.Box.Y1 + f.Box.Y2) / 2, side = 2.5f * Math.Max(f.Box.Width, f.Box.Height);
                var region = new PixelRect((int)(cx - side / 2), (int)(cy - side / 2), (int)side, (int)side);
                crops.Add(ImageResize.Resize(image, region, 250, 250, ResizeKernel.Area));
            }
        }
        for (int i = 0; i < count; i++)
            ImageWriter.Save(crops[i % crops.Count], Path.Combine(dir, $"person{i % crops.Count:D2}", $"img_{i:D4}.jpg"));
        return dir;
    }

    private static string Replicate(IReadOnlyList<string> photos, string dir, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var target = Path.Combine(dir, "samples", $"photo_{i:D3}.jpg");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(photos[i % photos.Count], target);
        }
        return dir;
    }
}
