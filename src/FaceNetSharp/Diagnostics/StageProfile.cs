using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FaceNetSharp.Diagnostics;

/// <summary>
/// Where detection and alignment spend their time, per stage, when the environment variable
/// <c>FACENETSHARP_PROFILE=1</c> is set (off otherwise: one static bool read per stage). Each stage adds its wall time
/// and the CPU time of the thread that ran it (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>, so that other processes' load
/// does not count); <see cref="Report"/> lists them, and `facenet align` prints it to stderr at the end of a run.
/// </summary>
internal static partial class StageProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("FACENETSHARP_PROFILE") == "1";

    private static readonly string[] Names = ["load+decode", "pnet resize", "pnet run", "pnet post", "rnet crops", "rnet run",
        "onet crops", "onet run", "align chip", "encode", "write"];
    private static readonly long[] Wall = new long[Names.Length];
    private static readonly long[] Cpu = new long[Names.Length];
    private static readonly long[] Calls = new long[Names.Length];

    /// <summary>Stages, as indices of <see cref="Names"/>.</summary>
    public enum Stage { Decode, PNetResize, PNetRun, PNetPost, RNetCrops, RNetRun, ONetCrops, ONetRun, AlignChip, Encode, Write }

    /// <summary>Starts timing <paramref name="stage"/> until the returned scope is disposed; a no-op when disabled.</summary>
    public static Scope Time(Stage stage)
    {
        if (!Enabled) return default;
        if (Interlocked.Read(ref _firstStageAt) == 0)
            Interlocked.CompareExchange(ref _firstStageAt, (DateTime.Now - Process.GetCurrentProcess().StartTime).Ticks, 0);
        return new Scope(stage, Stopwatch.GetTimestamp(), ThreadCpuNs());
    }

    // time from the process's start to the first stage (runtime start, command line, model load), in ticks
    private static long _firstStageAt;

    public readonly struct Scope(Stage stage, long wall, long cpu) : IDisposable
    {
        public void Dispose()
        {
            if (wall == 0) return;
            Interlocked.Add(ref Wall[(int)stage], Stopwatch.GetTimestamp() - wall);
            Interlocked.Add(ref Cpu[(int)stage], ThreadCpuNs() - cpu);
            Interlocked.Increment(ref Calls[(int)stage]);
        }
    }

    /// <summary>One line per stage that ran: calls, wall ms, thread CPU ms; then the totals.</summary>
    public static string Report()
    {
        var sb = new System.Text.StringBuilder($"start-up (process start to the first image): {_firstStageAt / TimeSpan.TicksPerMillisecond} ms wall\n");
        sb.Append("stage            calls    wall ms     cpu ms\n");
        double tw = 0, tc = 0;
        for (int i = 0; i < Names.Length; i++)
        {
            if (Calls[i] == 0) continue;
            double w = Wall[i] * 1000.0 / Stopwatch.Frequency, c = Cpu[i] / 1e6;
            tw += w; tc += c;
            sb.Append($"{Names[i],-14} {Calls[i],7} {w,10:F0} {c,10:F0}\n");
        }
        sb.Append($"{"total",-14} {"",7} {tw,10:F0} {tc,10:F0}\n");
        return sb.ToString();
    }

    private static long ThreadCpuNs()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var ts);
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec ts);
}
