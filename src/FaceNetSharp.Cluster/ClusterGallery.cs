using System.Globalization;
using FaceNetSharp.Recognition;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace FaceNetSharp.Cluster;

/// <summary>Time limits of a cluster client; every wait on the cluster is bounded by one of them.</summary>
public sealed record ClusterClientOptions
{
    /// <summary>
    /// How long to wait for a silo to accept the client. A silo answers in well under a second; 15 s also covers a
    /// cluster whose membership table still lists a silo that was just killed (the client tries it first).
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long one call (identify, count, refresh) keeps retrying shards that do not answer before it fails.
    /// When a silo dies, its shards come back on the others once the cluster has declared it dead (a few seconds,
    /// see <see cref="ClusterSilo"/>'s membership settings) and reloaded them from PostgreSQL.
    /// </summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one attempt at one shard may take before it is called again. A call in flight to a silo that dies is
    /// not failed by Orleans until its response time-out, so this bounds how long an identify waits on a dead silo
    /// (measured: with 10 s, identify was slow for 10.3 s after a SIGKILL; with 60 s, 61 s). A retry of a shard that
    /// is still loading (its first activation) only queues behind the load, which goes on, so 3 s is safe for large
    /// shards too; a search slower than 3 s (a shard far too large for its silo) would be asked twice.
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The shard count a new cluster gallery is created with (null: <see cref="ClusterSchema.DefaultShards"/>, 12).
    /// When set and the gallery exists with another count, opening it fails; when null, the gallery's count is used.
    /// </summary>
    public int? Shards { get; init; }
}

/// <summary>
/// A gallery served by a cluster: PostgreSQL holds every face (each enrolment is committed there before
/// <see cref="AddFacesAsync"/> returns), Orleans silos hold the shards in memory and answer identify (fanned out to every
/// shard, merged). Several clients (processes, machines) may use one cluster at once.
/// </summary>
/// <remarks>
/// The gallery is bound to one embedding model (the first enrolment's): opening it with another model id or
/// dimension count and writing, or identifying, throws <see cref="EmbeddingModelMismatchException"/>. When PostgreSQL
/// or every silo is unreachable, calls fail within the <see cref="ClusterClientOptions"/> limits with a
/// <see cref="ClusterUnavailableException"/>; identify never returns a partial answer.
/// </remarks>
public sealed class ClusterGallery : IFaceGallery, IAsyncDisposable
{
    /// <summary>Orleans' cluster and service ids: one gallery per PostgreSQL database.</summary>
    internal const string ClusterId = "facenet";

    private readonly ClusterDatabase _database;
    private readonly GalleryStore _store;
    private readonly ClusterClientOptions _options;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private IHost? _clientHost;
    private IClusterClient? _client;
    private bool _disposed;

    private ClusterGallery(ClusterDatabase database, int shards, string modelId, int dimensions, EmbeddingMetric metric, ClusterClientOptions options)
    {
        _database = database;
        _store = new GalleryStore(database);
        Shards = shards;
        ModelId = modelId;
        Dimensions = dimensions;
        Metric = metric;
        _options = options;
    }

    /// <inheritdoc/>
    public string Location => $"the cluster ({_database.Description})";

    /// <inheritdoc/>
    public string ModelId { get; }

    /// <inheritdoc/>
    public int Dimensions { get; }

    /// <inheritdoc/>
    public EmbeddingMetric Metric { get; }

    /// <summary>How many shards the gallery is split into.</summary>
    public int Shards { get; }

    /// <summary>
    /// Opens the cluster whose PostgreSQL is at <paramref name="connectionString"/> (creating its tables when new).
    /// Silos are contacted on the first call that needs them (identify, add, remove, import); list and export read
    /// PostgreSQL alone.
    /// </summary>
    /// <exception cref="ClusterUnavailableException">PostgreSQL does not answer.</exception>
    /// <exception cref="EmbeddingModelMismatchException">The gallery holds another model's vectors.</exception>
    /// <exception cref="ArgumentException"><see cref="ClusterClientOptions.Shards"/> differs from the gallery's shard count.</exception>
    public static async Task<ClusterGallery> OpenAsync(string connectionString, string modelId, int dimensions,
        EmbeddingMetric metric = EmbeddingMetric.Cosine, ClusterClientOptions? options = null, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        var database = ClusterDatabase.Create(connectionString);
        try
        {
            options ??= new ClusterClientOptions();
            int shards;
            try
            {
                shards = await ClusterSchema.EnsureAsync(database.Source, options.Shards, database.Description, cancel);
            }
            catch (Exception e) when (ClusterDatabase.IsUnreachable(e))
            {
                throw database.Unreachable(e);
            }
            var gallery = new ClusterGallery(database, shards, modelId, dimensions, metric, options);
            await gallery._store.CheckModelAsync(modelId, dimensions, bind: false, cancel);
            return gallery;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>Synchronous <see cref="OpenAsync"/>.</summary>
    public static ClusterGallery Open(string connectionString, string modelId, int dimensions,
        EmbeddingMetric metric = EmbeddingMetric.Cosine, ClusterClientOptions? options = null) =>
        OpenAsync(connectionString, modelId, dimensions, metric, options).GetAwaiter().GetResult();

    /// <summary>
    /// Adds faces to a person in one PostgreSQL transaction (all or none), then has the person's shard load them, so
    /// that an identify through any client that starts after this returns finds them.
    /// </summary>
    /// <exception cref="ClusterUnavailableException">
    /// PostgreSQL did not answer (nothing stored), or no silo did after the commit (the faces are stored and will be
    /// searched once a silo serves their shard; the message says so).
    /// </exception>
    public async Task<int> AddFacesAsync(string person, IEnumerable<(float[] vector, string? source)> faces, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        ArgumentNullException.ThrowIfNull(faces);
        var now = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var rows = new List<StoredFace>();
        foreach (var (vector, source) in faces)
        {
            ArgumentNullException.ThrowIfNull(vector, nameof(faces));
            rows.Add(new StoredFace(VectorMath.Normalized(vector, Dimensions, $"face {rows.Count} of '{person}'"), source, now));
        }
        if (rows.Count == 0) return 0;
        await AddPeopleAsync([(person, rows)], cancel);
        return rows.Count;
    }

    /// <summary>Bulk enrolment (import, benchmark): one transaction per shard, binary COPY, then the shards reload.</summary>
    internal async Task AddPeopleAsync(IReadOnlyList<(string Name, IReadOnlyList<StoredFace> Faces)> people, CancellationToken cancel = default)
    {
        ThrowIfDisposed();
        await WithDatabase(() => _store.CheckModelAsync(ModelId, Dimensions, bind: true, cancel));
        var shards = await WithDatabase(() => _store.AddPeopleAsync(ModelId, Shards, people, cancel));
        await RefreshAsync(shards, "the faces are stored in PostgreSQL and will be searched once a silo serves their shard", cancel);
    }

    /// <summary>Removes a person and their faces (one transaction), then has their shard reload.</summary>
    public async Task<bool> RemoveAsync(string person, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        ThrowIfDisposed();
        var shard = await WithDatabase(() => _store.RemoveAsync(person, Shards, cancel));
        if (shard is null) return false;
        await RefreshAsync([shard.Value], $"'{person}' is removed from PostgreSQL and will be gone from identify once a silo serves the shard again", cancel);
        return true;
    }

    /// <summary>
    /// The <paramref name="top"/> nearest people over every shard, as <see cref="FaceGallery.Identify"/> answers
    /// them. Every shard answers or the call fails: never a partial answer.
    /// </summary>
    public async Task<IReadOnlyList<GalleryMatch>> IdentifyAsync(float[] query, int top, float threshold, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "must be finite");
        var unit = VectorMath.Normalized(query, Dimensions, "the query");
        await CheckModelOnce(cancel);
        var answers = await FanOutAsync(Enumerable.Range(0, Shards).ToArray(), g => g.Identify(unit, top), "identify", cancel);
        return answers.SelectMany(a => a)
            .OrderByDescending(m => m.Dot)
            .Take(top)
            .Select(m =>
            {
                float distance = VectorMath.DistanceFromDot(m.Dot, Metric);
                return new GalleryMatch(m.Person, distance, distance < threshold);
            })
            .ToList();
    }

    /// <summary>How many faces the silos hold in memory, over every shard.</summary>
    public async Task<int> FaceCountAsync(CancellationToken cancel = default)
    {
        var counts = await FanOutAsync(Enumerable.Range(0, Shards).ToArray(), g => g.FaceCount(), "count faces", cancel);
        return counts.Sum();
    }

    /// <summary>How many people the silos hold in memory, over every shard (a person is in one shard).</summary>
    public async Task<int> PeopleCountAsync(CancellationToken cancel = default)
    {
        var counts = await FanOutAsync(Enumerable.Range(0, Shards).ToArray(), g => g.PeopleCount(), "count people", cancel);
        return counts.Sum();
    }

    /// <summary>Where each shard lives now: shard number to its silo's "address:port".</summary>
    public async Task<IReadOnlyList<string>> ShardSilosAsync(CancellationToken cancel = default) =>
        await FanOutAsync(Enumerable.Range(0, Shards).ToArray(), g => g.Silo(), "say where its shards are", cancel);

    /// <summary>How many faces <paramref name="person"/> has (read from PostgreSQL); 0 for an unknown name.</summary>
    public Task<int> FaceCountOfAsync(string person, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        return WithDatabase(() => _store.FaceCountOfAsync(person, cancel));
    }

    /// <summary>The people and their numbers of faces (read from PostgreSQL), by name in ordinal order.</summary>
    public Task<IReadOnlyList<GalleryPerson>> ListAsync(CancellationToken cancel = default) => WithDatabase(() => _store.ListAsync(cancel));

    /// <summary>Writes the whole gallery as the SQLite gallery's export JSON (from PostgreSQL); returns the people written.</summary>
    public async Task<int> ExportAsync(string jsonPath, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        await CheckModelOnce(cancel);
        return await WithDatabase(() => _store.ExportAsync(jsonPath, ModelId, Dimensions, cancel));
    }

    /// <summary>Adds every face of an export (the SQLite gallery's or a cluster's) of this model; returns how many.</summary>
    public async Task<int> ImportAsync(string jsonPath, CancellationToken cancel = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        var people = GalleryStore.ReadExport(jsonPath, ModelId, Dimensions);
        await AddPeopleAsync(people, cancel);
        return people.Sum(p => p.Faces.Count);
    }

    int IFaceGallery.FaceCount => FaceCountAsync().GetAwaiter().GetResult();

    int IFaceGallery.PeopleCount => PeopleCountAsync().GetAwaiter().GetResult();

    int IFaceGallery.AddFaces(string person, IEnumerable<(float[] vector, string? source)> faces) => AddFacesAsync(person, faces).GetAwaiter().GetResult();

    IReadOnlyList<GalleryMatch> IFaceGallery.Identify(ReadOnlySpan<float> query, int top, float threshold) =>
        IdentifyAsync(query.ToArray(), top, threshold).GetAwaiter().GetResult();

    IReadOnlyList<GalleryPerson> IFaceGallery.List() => ListAsync().GetAwaiter().GetResult();

    int IFaceGallery.FaceCountOf(string person) => FaceCountOfAsync(person).GetAwaiter().GetResult();

    bool IFaceGallery.Remove(string person) => RemoveAsync(person).GetAwaiter().GetResult();

    void IFaceGallery.Export(string jsonPath) => ExportAsync(jsonPath).GetAwaiter().GetResult();

    int IFaceGallery.Import(string jsonPath) => ImportAsync(jsonPath).GetAwaiter().GetResult();

    private bool _modelChecked;

    /// <summary>A read of another model's gallery is refused as a write is (once per instance: the binding never changes).</summary>
    private async Task CheckModelOnce(CancellationToken cancel)
    {
        if (_modelChecked) return;
        await WithDatabase(() => _store.CheckModelAsync(ModelId, Dimensions, bind: false, cancel));
        _modelChecked = true;
    }

    private async Task<T> WithDatabase<T>(Func<Task<T>> action)
    {
        ThrowIfDisposed();
        try
        {
            return await action();
        }
        catch (Exception e) when (ClusterDatabase.IsUnreachable(e))
        {
            throw _database.Unreachable(e);
        }
    }

    private async Task RefreshAsync(IReadOnlyList<int> shards, string consequence, CancellationToken cancel)
    {
        try
        {
            await FanOutAsync(shards.ToArray(), g => g.Refresh(), "load the new faces", cancel);
        }
        catch (ClusterUnavailableException e)
        {
            throw new ClusterUnavailableException($"{e.Message}; {consequence}", e.InnerException);
        }
    }

    /// <summary>
    /// Calls every shard in <paramref name="shards"/> at once and waits for all; a shard that fails or does not answer
    /// within <see cref="ClusterClientOptions.AttemptTimeout"/> is called again (its grain comes back on another silo
    /// when its silo died) until <see cref="ClusterClientOptions.CallDeadline"/>.
    /// </summary>
    private async Task<T[]> FanOutAsync<T>(int[] shards, Func<IGalleryShardGrain, Task<T>> call, string what, CancellationToken cancel)
    {
        var client = await ClientAsync(cancel);
        var results = new T[shards.Length];
        var pending = Enumerable.Range(0, shards.Length).ToList();
        var deadline = DateTime.UtcNow + _options.CallDeadline;
        Exception? last = null;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var attempts = pending.Select(i => (i, task: call(client.GetGrain<IGalleryShardGrain>(shards[i])).WaitAsync(_options.AttemptTimeout, cancel))).ToList();
            var failed = new List<int>();
            foreach (var (i, task) in attempts)
            {
                try
                {
                    results[i] = await task;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
                {
                    if (e is ArgumentException or EmbeddingModelMismatchException) throw;
                    last = e;
                    failed.Add(i);
                }
            }
            if (failed.Count == 0) return results;
            pending = failed;
            if (DateTime.UtcNow + delay > deadline)
                throw new ClusterUnavailableException(
                    $"the cluster did not {what}: shard(s) {string.Join(", ", pending.Select(i => shards[i]))} gave no answer within " +
                    $"{_options.CallDeadline.TotalSeconds:F0} s ({last?.GetType().Name}: {last?.Message})", last);
            await Task.Delay(delay, cancel);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
        }
    }

    /// <summary>The Orleans client, connected on first use within <see cref="ClusterClientOptions.ConnectTimeout"/>.</summary>
    private async Task<IClusterClient> ClientAsync(CancellationToken cancel)
    {
        ThrowIfDisposed();
        if (_client is not null) return _client;
        await _connectGate.WaitAsync(cancel);
        try
        {
            if (_client is not null) return _client;
            // Orleans' membership provider opens its connections through Npgsql's shared pool: connections left idle
            // there from before a PostgreSQL restart would fail their first use (57P01), so start from a clean pool.
            using (var stale = new Npgsql.NpgsqlConnection(_database.ConnectionString)) Npgsql.NpgsqlConnection.ClearPool(stale);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ClusterId; });
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = _database.ConnectionString;
                });
                // Reread the silo list often, so that a client sees a replaced silo soon (default 1 min).
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
                // each attempt is bounded by AttemptTimeout (WaitAsync); Orleans' own limit is the whole call's
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = _options.CallDeadline);
            });
            var host = builder.Build();
            try
            {
                await host.StartAsync(cancel).WaitAsync(_options.ConnectTimeout, cancel);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
            {
                _ = Task.Run(() => { try { host.Dispose(); } catch (Exception) { } });
                // the membership table could not be read (not the wait for a silo, which is a TimeoutException)
                if (e is Npgsql.NpgsqlException && ClusterDatabase.IsUnreachable(e) ||
                    e.InnerException is Npgsql.NpgsqlException inner && ClusterDatabase.IsUnreachable(inner))
                    throw _database.Unreachable(e);
                throw new ClusterUnavailableException(
                    $"no silo of the cluster answered within {_options.ConnectTimeout.TotalSeconds:F0} s (membership in {_database.Description}): " +
                    "start silos with 'facenet silo --postgres CONN' or 'scripts/cluster.sh up DIR'" +
                    (e is TimeoutException ? "" : $" ({e.GetType().Name}: {e.Message})"), e);
            }
            _clientHost = host;
            return _client = host.Services.GetRequiredService<IClusterClient>();
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Disconnects from the silos (bounded: 5 s) and closes the database connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_clientHost is { } host)
        {
            try { await host.StopAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* the silos may be gone */ }
            host.Dispose();
        }
        await _database.DisposeAsync();
        _connectGate.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
