using System.Diagnostics;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>detect-alloc IMAGE [calls]</c>: managed bytes allocated per warm <see cref="MtcnnDetector.Detect"/> call
/// (GC.GetAllocatedBytesForCurrentThread around each call, after 3 warm-up calls), gen-0/1/2 collections over the calls,
/// time per call, and the process's peak working set. Issue 9 target: at most 5 MiB per call on a 2-Mpx photo.
/// </summary>
internal static class DetectAllocBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: detect-alloc IMAGE [calls (10)]");
            return 2;
        }
        int calls = args.Length > 1 ? int.Parse(args[1]) : 10;
        var image = ImageLoader.Load(args[0]);
        using var detector = MtcnnDetector.FromStore(new ModelStore());
        int faces = 0;
        for (int i = 0; i < 3; i++) faces = detector.Detect(image).Count;

        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long min = long.MaxValue, max = 0, total = 0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            detector.Detect(image);
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            min = Math.Min(min, bytes);
            max = Math.Max(max, bytes);
            total += bytes;
        }
        sw.Stop();
        using var proc = Process.GetCurrentProcess();
        const double MiB = 1024.0 * 1024.0;
        Console.WriteLine($"detect-alloc {Path.GetFileName(args[0])} {image.Width}x{image.Height} ({image.Width * (long)image.Height / 1e6:F2} Mpx), {faces} faces, {calls} warm calls:");
        Console.WriteLine($"  managed allocation per Detect: mean {total / (double)calls / MiB:F2} MiB (min {min / MiB:F2}, max {max / MiB:F2})");
        Console.WriteLine($"  collections over the calls: gen0 {GC.CollectionCount(0) - g0}, gen1 {GC.CollectionCount(1) - g1}, gen2 {GC.CollectionCount(2) - g2}");
        Console.WriteLine($"  {sw.Elapsed.TotalMilliseconds / calls:F0} ms per call; peak working set {proc.PeakWorkingSet64 / MiB:F0} MiB");
        return 0;
    }
}
