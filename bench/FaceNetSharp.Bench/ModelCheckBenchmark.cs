using System.Diagnostics;
using System.Security.Cryptography;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>model-check</c>: what checking each installed model against its card's SHA-256 costs when a session opens
/// (<see cref="ModelIntegrity"/>), against the cost of creating the ONNX Runtime session itself. Each figure is the
/// median of several rounds; the file is in the page cache after the first read, as it is for every open but the
/// first after a boot.
/// </summary>
internal static class ModelCheckBenchmark
{
    public static int Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 7;
        var store = new ModelStore();
        store.EnsureInstalled();
        Console.WriteLine($"model-check benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, median of {rounds} rounds, files in the page cache");
        Console.WriteLine("model                    MiB   sha256 ms   ms/MiB   session ms   check/session");
        double totalMiB = 0, totalHash = 0, totalSession = 0;
        foreach (var name in ModelNames.All)
        {
            var path = store.PathOf(name);
            double mib = new FileInfo(path).Length / (1024.0 * 1024);
            File.ReadAllBytes(path); // into the page cache
            double hash = Median(rounds, () =>
            {
                using var s = File.OpenRead(path);
                SHA256.HashData(s);
            });
            double session = Median(rounds, () =>
            {
                using var so = OnnxSessions.CreateOptions(Environment.ProcessorCount);
                using var session = new InferenceSession(path, so);
            });
            totalMiB += mib;
            totalHash += hash;
            totalSession += session;
            Console.WriteLine($"{name,-22} {mib,5:F1} {hash,11:F1} {hash / mib,8:F2} {session,12:F1} {hash / session,15:P0}");
        }
        Console.WriteLine($"{"all",-22} {totalMiB,5:F1} {totalHash,11:F1} {totalHash / totalMiB,8:F2} {totalSession,12:F1} {totalHash / totalSession,15:P0}");

        // With the per-process cache, a second open of the same file costs a stat and a card read.
        var mfn = store.PathOf(ModelNames.MobileFaceNet);
        ModelIntegrity.Verify(mfn);
        double cached = Median(rounds, () => ModelIntegrity.Verify(mfn));
        Console.WriteLine($"verify {ModelNames.MobileFaceNet} again in the same process (cached hash, card re-read): {cached:F2} ms");
        return 0;
    }

    private static double Median(int rounds, Action action)
    {
        var times = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[rounds / 2];
    }
}
