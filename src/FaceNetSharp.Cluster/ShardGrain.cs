using FaceNetSharp.Recognition;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;

namespace FaceNetSharp.Cluster;

/// <summary>A person and the dot product of their best face with a unit query, as one shard answers.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardMatch([property: Id(0)] string Person, [property: Id(1)] float Dot);

/// <summary>
/// One shard of the cluster gallery (key: the shard number): its faces in memory, searched exactly. A person's faces
/// are all in one shard (by a hash of the name), so every shard's top-k people merged give the gallery's top-k.
/// </summary>
public interface IGalleryShardGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The <paramref name="top"/> people whose best face is nearest to <paramref name="unitQuery"/> (L2-normalised),
    /// best first. Runs beside a refresh in progress (on the view from before it).
    /// </summary>
    [AlwaysInterleave]
    Task<ShardMatch[]> Identify(float[] unitQuery, int top);

    /// <summary>Loads what was committed to the shard since the last load (a write calls it before it returns).</summary>
    Task<int> Refresh();

    /// <summary>How many faces the shard holds in memory.</summary>
    [AlwaysInterleave]
    Task<int> FaceCount();

    /// <summary>How many people (with a searchable face) the shard holds in memory.</summary>
    [AlwaysInterleave]
    Task<int> PeopleCount();

    /// <summary>The silo the shard lives on now, as "address:port" (its silo-to-silo endpoint).</summary>
    [AlwaysInterleave]
    Task<string> Silo();
}

/// <summary>
/// Holds one shard in memory: loads it from PostgreSQL on activation (also when a silo died and the grain comes back
/// on another), then appends what writers commit. Writers call <see cref="Refresh"/> after each commit; a timer
/// also refreshes every <see cref="RefreshPeriod"/>, in case such a call was lost with a silo.
/// </summary>
[ShardPlacement]
internal sealed class GalleryShardGrain(GalleryStore store, ILocalSiloDetails silo, ILogger<GalleryShardGrain> log)
    : Grain, IGalleryShardGrain
{
    /// <summary>
    /// The fallback refresh period: one small query per shard (12 a second for the default 12 shards). A committed
    /// face is searched at the latest this long after its commit even when the writer's refresh call was lost.
    /// </summary>
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(1);

    private GalleryStore.ShardState? _state;
    private GalleryIndexView? _view;
    private int _dimensions;

    private int Shard => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancel)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Load(cancel);
        }
        catch (Exception e)
        {
            // Orleans reports a failed activation only among its own warnings: say it here, in the silo's own lines.
            log.LogWarning("shard {Shard}: loading failed after {Ms:N0} ms ({Type}: {Message}); the next call tries again",
                Shard, started.ElapsedMilliseconds, e.GetType().Name, e.Message);
            throw;
        }
        log.LogInformation("shard {Shard}: {Faces:N0} faces loaded in {Ms:N0} ms", Shard, _view?.Rows ?? 0, started.ElapsedMilliseconds);
        // KeepAlive: the grain stays active while its silo lives, instead of being collected when idle and reloaded.
        this.RegisterGrainTimer(async ct =>
        {
            try { await Load(ct); }
            catch (Exception e) { log.LogWarning("shard {Shard}: refresh failed: {Message}", Shard, e.Message); }
        }, new GrainTimerCreationOptions(RefreshPeriod, RefreshPeriod) { KeepAlive = true });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancel)
    {
        log.LogInformation("shard {Shard}: deactivated ({Reason})", Shard, reason.ReasonCode);
        return Task.CompletedTask;
    }

    private async Task Load(CancellationToken cancel)
    {
        // No model bound yet means no face yet (the first enrolment binds the model before it writes a face).
        if (_dimensions == 0 && (_dimensions = await store.DimensionsAsync(cancel)) == 0) return;
        _state = await store.ReadShardAsync(Shard, _dimensions, _state, cancel);
        _view = _state.Index.View();
    }

    public Task<ShardMatch[]> Identify(float[] unitQuery, int top)
    {
        var view = _view;
        if (view is null) return Task.FromResult(Array.Empty<ShardMatch>());
        if (unitQuery.Length != view.Dimensions)
            throw new ArgumentException($"the query has {unitQuery.Length} dimensions; the gallery's have {view.Dimensions}");
        var people = view.TopPeople(unitQuery, top);
        var result = new ShardMatch[people.Count];
        for (int i = 0; i < people.Count; i++) result[i] = new ShardMatch(view.PersonName(people[i].Person), people[i].Dot);
        return Task.FromResult(result);
    }

    public async Task<int> Refresh()
    {
        await Load(CancellationToken.None);
        return _view?.Rows ?? 0;
    }

    public Task<int> FaceCount() => Task.FromResult(_view?.Rows ?? 0);

    public Task<int> PeopleCount() => Task.FromResult(_view?.People ?? 0);

    public Task<string> Silo() => Task.FromResult(silo.SiloAddress.Endpoint.ToString());
}
