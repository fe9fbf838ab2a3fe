namespace FaceNetSharp.Server;

/// <summary>
/// Bounds how many decode + inference jobs run at once. ONNX Runtime already uses several threads per inference, so
/// more jobs than cores only add latency and memory; a request that cannot get a slot within the queue timeout is
/// refused (503) instead of waiting without bound. Thread-safe.
/// </summary>
internal sealed class InferenceGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _queueTimeout;
    private long _rejected;

    public InferenceGate(int maxConcurrency, TimeSpan queueTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConcurrency);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueTimeout, TimeSpan.Zero);
        MaxConcurrency = maxConcurrency;
        _queueTimeout = queueTimeout;
        _slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
    }

    public int MaxConcurrency { get; }

    /// <summary>How many slots are free now.</summary>
    public int Available => _slots.CurrentCount;

    /// <summary>How many requests were refused since the start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Runs <paramref name="work"/> on a thread-pool thread once a slot is free.</summary>
    /// <exception cref="ServerBusyException">No slot came free within the queue timeout.</exception>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancel)
    {
        if (!await _slots.WaitAsync(_queueTimeout, cancel).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _rejected);
            throw new ServerBusyException(MaxConcurrency, _queueTimeout);
        }
        try
        {
            return await Task.Run(work, cancel).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Takes a slot without running anything (tests hold every slot to see the 503 deterministically).</summary>
    internal Task<bool> TryTakeAsync(TimeSpan wait) => _slots.WaitAsync(wait);

    /// <summary>Gives back a slot taken with <see cref="TryTakeAsync"/>.</summary>
    internal void Give() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}

/// <summary>Every inference slot stayed busy for the whole queue timeout (answered 503 with Retry-After).</summary>
internal sealed class ServerBusyException(int maxConcurrency, TimeSpan waited)
    : Exception($"The server is busy: all {maxConcurrency} inference slots stayed taken for {waited.TotalMilliseconds:F0} ms. Retry later.");
