using System.Diagnostics;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>embed</c>: faces/s of each embedder at batch 1, 16 and 64 (real aligned chips of the npm sample photos), and
/// end-to-end photos/s for detect + align + embed of every face. Issue target: 150 faces/s for MobileFaceNet at
/// batch 64 on 2 cores.
/// </summary>
internal static class EmbedBenchmark
{
    public static int Run(string[] args)
    {
        int faces = args.Length > 0 ? int.Parse(args[0]) : 256;
        var work = Directory.CreateTempSubdirectory("facenet-bench").FullName;
        try
        {
            var store = new ModelStore();
            store.EnsureInstalled();
            var photos = SamplePhotos.Ensure(Path.Combine(work, "samples")).Select(p => ImageLoader.Load(p)).ToList();
            Console.WriteLine($"embed benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime CPU, {faces} faces per measurement");
            Console.WriteLine("model            batch   faces/s   ms/face   peak WS MiB");
            foreach (var model in new[] { "mobilefacenet", "dlib" })
            {
                List<RgbImage> chips;
                using (var recognizer = FaceRecognizer.Open(model, store.Directory))
                    chips = photos.SelectMany(p => recognizer.Detect(p).Select(f => recognizer.Align(p, f))).ToList();
                var input = Enumerable.Range(0, faces).Select(i => chips[i % chips.Count]).ToList();
                foreach (var batch in new[] { 1, 16, 64 })
                {
                    using var embedder = Embedders.Open(store, model, new EmbedderOptions { BatchSize = batch });
                    embedder.Embed(input.Take(batch * 2).ToList()); // warm-up
                    var sw = Stopwatch.StartNew();
                    embedder.Embed(input);
                    sw.Stop();
                    using var proc = Process.GetCurrentProcess();
                    Console.WriteLine($"{model,-15} {batch,6} {faces / sw.Elapsed.TotalSeconds,9:F1} {sw.Elapsed.TotalMilliseconds / faces,9:F2} {proc.PeakWorkingSet64 / (1024 * 1024),13}");
                }
            }

            Console.WriteLine();
            Console.WriteLine("end to end (load + detect + align + embed every face), mobilefacenet, one photo at a time");
            using (var recognizer = FaceRecognizer.Open("mobilefacenet", store.Directory))
            {
                var paths = Directory.GetFiles(Path.Combine(work, "samples"));
                recognizer.EmbedAll(ImageLoader.Load(paths[0])); // warm-up
                int rounds = 3, total = 0, facesFound = 0;
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < rounds; r++)
                    foreach (var p in paths)
                    {
                        facesFound += recognizer.EmbedAll(ImageLoader.Load(p)).Count;
                        total++;
                    }
                sw.Stop();
                using var proc = Process.GetCurrentProcess();
                Console.WriteLine($"{total} photos of about 1920x1400 ({facesFound} faces): {total / sw.Elapsed.TotalSeconds:F2} photos/s, {facesFound / sw.Elapsed.TotalSeconds:F1} faces/s, peak WS {proc.PeakWorkingSet64 / (1024 * 1024)} MiB");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
