using System.Runtime;
using System.Runtime.InteropServices;

namespace FaceNetSharp.AspNetCore;

/// <summary>
/// Gives memory back to the system once the server goes idle after work: without this, the process keeps what its
/// largest requests took (the GC collects only when allocations trigger it, so an idle server never collects; and
/// glibc keeps freed native memory in its arenas). A short while after the last job in flight ends (so a steady
/// stream of requests is not interrupted), and only if images were worked on since the last trim, it runs a blocking
/// compacting full collection that also compacts the large-object heap and decommits free regions
/// (<see cref="GCCollectionMode.Aggressive"/>), then asks glibc to return free native memory (<c>malloc_trim</c>).
/// While jobs run, glibc's free memory alone is handed back every 2 s.
/// </summary>
internal sealed class MemoryTrimmer : IDisposable
{
    // A pause after the last job before trimming: a client sending one request after another (the page, a script)
    // leaves gaps of milliseconds, which must not each cost a full collection. 500 ms is far above such gaps and far
    // below the 30 s the memory target allows.
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(500);

    // While jobs run, glibc's free native memory is handed back this often (malloc_trim only, no collection): the
    // per-run buffers of ONNX Runtime, freed in whichever arena their thread used, otherwise pile up under steady
    // load until the server goes idle. A trim takes milliseconds; a 2-Mpx request takes a second or more.
    private static readonly TimeSpan BusyTrimPeriod = TimeSpan.FromSeconds(2);

    private readonly InferenceGate _gate;
    private readonly Timer _timer;
    private readonly Timer _busyTimer;
    private int _workSinceTrim;   // 1 when a job ended since the last trim
    private long _trims;

    public MemoryTrimmer(InferenceGate gate)
    {
        ConfigureAllocator();
        _gate = gate;
        _timer = new Timer(_ => TrimIfIdle(), null, Timeout.Infinite, Timeout.Infinite);
        _busyTimer = new Timer(_ => TrimNativeIfBusy(), null, BusyTrimPeriod, BusyTrimPeriod);
        gate.Idle += OnIdle;
    }

    /// <summary>False when <c>FACENETSHARP_SERVER_TRIM=off</c> leaves the trimmer out (to measure what it does, scripts/server-memory.sh).</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("FACENETSHARP_SERVER_TRIM") != "off";

    /// <summary>How many trims ran (for tests and logs).</summary>
    public long Trims => Interlocked.Read(ref _trims);

    private void OnIdle()
    {
        Volatile.Write(ref _workSinceTrim, 1);
        _timer.Change(Delay, Timeout.InfiniteTimeSpan);
    }

    private void TrimIfIdle()
    {
        if (_gate.PixelsInFlight != 0 || _gate.Available != _gate.MaxConcurrency) return; // busy again: its end re-arms
        if (Interlocked.Exchange(ref _workSinceTrim, 0) == 0) return;
        Trim();
        Interlocked.Increment(ref _trims);
    }

    private void TrimNativeIfBusy()
    {
        if (OperatingSystem.IsLinux() && (_gate.PixelsInFlight != 0 || _gate.Available != _gate.MaxConcurrency)) TryMallocTrim();
    }

    /// <summary>One compacting, decommitting full collection, then glibc's trim where there is one.</summary>
    public static void Trim()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux()) TryMallocTrim();
    }

    private static bool _noMallocTrim;
    private static int _allocatorConfigured;

    // glibc's mallopt parameter number M_ARENA_MAX (malloc.h).
    private const int ArenaMaxParam = -8;
    // At most two malloc arenas, as MALLOC_ARENA_MAX=2 would. glibc's default is 8 per core, and memory freed in one
    // arena serves no other: with ONNX Runtime allocating its per-run buffers (no memory arena, see FaceNetOptions.ServerInference)
    // on whichever pool thread runs the request, the arenas each kept their own high-water mark. Measured with
    // scripts/server-memory.sh photos (56 requests, 8 clients, 2 cores, 2026-11-30): peak RSS 1.42 GB with the
    // default, 0.97 GB with two arenas; a fixed 1 MiB mmap threshold (mallopt M_MMAP_THRESHOLD) kept it at 0.49 GB
    // but made each 2-Mpx detection twice as slow (mapping and zeroing every buffer anew), so it is not used.
    private const int ArenaMax = 2;

    /// <summary>
    /// Limits glibc to <see cref="ArenaMax"/> malloc arenas (process-wide, once, before the server's threads
    /// allocate): freed native memory is reused across threads instead of staying in per-thread arenas. Does nothing
    /// where there is no glibc.
    /// </summary>
    public static void ConfigureAllocator()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _allocatorConfigured, 1) == 1) return;
        if (Environment.GetEnvironmentVariable("FACENETSHARP_SERVER_MALLOPT") == "off") return; // to measure without it
        try
        {
            mallopt(ArenaMaxParam, ArenaMax);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

    private static void TryMallocTrim()
    {
        if (_noMallocTrim) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _noMallocTrim = true; // musl and other C libraries without it
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    public void Dispose()
    {
        _gate.Idle -= OnIdle;
        _timer.Dispose();
        _busyTimer.Dispose();
    }
}
