using System.Diagnostics;

namespace FaceNetSharp.AspNetCore;

/// <summary>
/// Admission of decode + inference jobs, by two budgets: slots (how many jobs run at once; ONNX Runtime already
/// uses threads inside a run, so more jobs than cores only add latency and memory) and pixels in flight (the decoded
/// size of the images being worked on, from their headers: the memory a job takes grows with its pixels, so this
/// budget bounds the memory of concurrent large images where the slot count cannot). A request that cannot get both
/// within the queue timeout is refused (503) instead of waiting without bound. Thread-safe. One per application:
/// <see cref="FaceNetServiceCollectionExtensions.AddFaceNet"/> registers it as a singleton, from
/// <see cref="FaceNetOptions.MaxConcurrency"/>, <see cref="FaceNetOptions.QueueTimeout"/> and
/// <see cref="FaceNetOptions.MaxPixelsInFlight"/>; an application's own endpoints may run their work in it too.
/// </summary>
public sealed class InferenceGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _queueTimeout;
    private readonly Lock _pixelLock = new();
    private long _pixelsInFlight;
    // Completed (and replaced) whenever pixels are given back: the signal waiting requests re-check the budget on.
    private TaskCompletionSource _pixelsReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _rejected;

    /// <summary>A gate of <paramref name="maxConcurrency"/> slots and <paramref name="pixelBudget"/> pixels in flight.</summary>
    /// <param name="maxConcurrency">How many jobs run at once.</param>
    /// <param name="queueTimeout">How long a job may wait for a slot and its pixels before it is refused.</param>
    /// <param name="pixelBudget">The most pixels the jobs admitted at once may hold.</param>
    public InferenceGate(int maxConcurrency, TimeSpan queueTimeout, long pixelBudget = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConcurrency);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelBudget);
        MaxConcurrency = maxConcurrency;
        PixelBudget = pixelBudget;
        _queueTimeout = queueTimeout;
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
    }

    /// <summary>How many jobs run at once.</summary>
    public int MaxConcurrency { get; }

    /// <summary>The most pixels (width x height, summed over the jobs running or admitted) in flight at once.</summary>
    public long PixelBudget { get; }

    /// <summary>How many slots are free now.</summary>
    public int Available => _slots.CurrentCount;

    /// <summary>The pixels of the jobs admitted now.</summary>
    public long PixelsInFlight { get { lock (_pixelLock) return _pixelsInFlight; } }

    /// <summary>How many requests were refused since the start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Raised (on the thread that finished a job) each time the last job in flight ends.</summary>
    public event Action? Idle;

    /// <summary>
    /// Runs <paramref name="work"/> on a thread-pool thread once a slot is free and <paramref name="pixels"/> fit in
    /// the pixel budget, both within one queue timeout.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pixels"/> is over the whole budget (the caller
    /// answers 413 before coming here: such a job could never run).</exception>
    /// <exception cref="ServerBusyException">The slot or the pixels did not come free within the queue timeout.</exception>
    public async Task<T> RunAsync<T>(long pixels, Func<T> work, CancellationToken cancel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pixels);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pixels, PixelBudget);
        long deadline = Stopwatch.GetTimestamp() + (long)(_queueTimeout.TotalSeconds * Stopwatch.Frequency);
        if (!await ReservePixelsAsync(pixels, deadline, cancel).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _rejected);
            long inFlight = PixelsInFlight;
            throw new ServerBusyException(
                $"The server is busy: the images in flight take {inFlight:N0} of its budget of {PixelBudget:N0} pixels, " +
                $"and this request's {pixels:N0} pixels did not fit within {_queueTimeout.TotalMilliseconds:F0} ms. Retry later.");
        }
        try
        {
            if (!await _slots.WaitAsync(Remaining(deadline), cancel).ConfigureAwait(false))
            {
                Interlocked.Increment(ref _rejected);
                throw new ServerBusyException(
                    $"The server is busy: all {MaxConcurrency} inference slots stayed taken for {_queueTimeout.TotalMilliseconds:F0} ms. Retry later.");
            }
            try
            {
                if (AdmittedHook is { } hook) await hook().ConfigureAwait(false);
                return await Task.Run(work, cancel).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            ReleasePixels(pixels);
        }
    }

    private async Task<bool> ReservePixelsAsync(long pixels, long deadline, CancellationToken cancel)
    {
        while (true)
        {
            Task released;
            lock (_pixelLock)
            {
                if (_pixelsInFlight + pixels <= PixelBudget)
                {
                    _pixelsInFlight += pixels;
                    return true;
                }
                released = _pixelsReleased.Task;
            }
            var left = Remaining(deadline);
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await released.WaitAsync(left, cancel).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    private void ReleasePixels(long pixels)
    {
        TaskCompletionSource released;
        bool idle;
        lock (_pixelLock)
        {
            _pixelsInFlight -= pixels;
            idle = _pixelsInFlight == 0 && _slots.CurrentCount == MaxConcurrency;
            released = _pixelsReleased;
            _pixelsReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        released.SetResult();
        if (idle) Idle?.Invoke();
    }

    private static TimeSpan Remaining(long deadline) =>
        TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    /// <summary>
    /// Awaited once a job holds its pixels and its slot, before its work runs (tests hold an admitted job there, so
    /// that the requests sent beside it meet its pixels in flight however fast its work would have been).
    /// </summary>
    internal Func<Task>? AdmittedHook { get; set; }

    /// <summary>Takes a slot without running anything (tests hold every slot to see the 503 deterministically).</summary>
    internal Task<bool> TryTakeAsync(TimeSpan wait) => _slots.WaitAsync(wait);

    /// <summary>Gives back a slot taken with <see cref="TryTakeAsync"/>.</summary>
    internal void Give() => _slots.Release();

    /// <summary>Releases the slots' semaphore.</summary>
    public void Dispose() => _slots.Dispose();
}

/// <summary>No slot, or not enough of the pixel budget, came free within the queue timeout (answered 503 with Retry-After).</summary>
public sealed class ServerBusyException(string message) : Exception(message);
