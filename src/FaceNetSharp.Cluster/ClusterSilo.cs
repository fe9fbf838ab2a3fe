using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace FaceNetSharp.Cluster;

/// <summary>Where a silo listens and which cluster it joins.</summary>
/// <param name="ConnectionString">The cluster's PostgreSQL (membership and gallery).</param>
/// <param name="SiloPort">Silo-to-silo port (Orleans' default 11111).</param>
/// <param name="GatewayPort">Client port (Orleans' default 30000).</param>
/// <param name="Address">The address other silos and clients reach this one at (default 127.0.0.1).</param>
public sealed record ClusterSiloOptions(string ConnectionString, int SiloPort = 11111, int GatewayPort = 30000, IPAddress? Address = null)
{
    /// <summary>
    /// The shard count of a new gallery (null: the gallery's own, or <see cref="ClusterSchema.DefaultShards"/> for a
    /// new one). A gallery created with another count refuses the silo (<see cref="ArgumentException"/>).
    /// </summary>
    public int? Shards { get; init; }

    /// <summary>Orleans' own information messages too, and stack traces (default: its errors only).</summary>
    public bool Verbose { get; init; }
}

/// <summary>
/// Runs one Orleans silo of a cluster gallery: it joins the cluster through the membership table in PostgreSQL and
/// hosts shard grains (<see cref="IGalleryShardGrain"/>), which the cluster spreads over its silos and moves to the
/// others when a silo dies.
/// </summary>
public static class ClusterSilo
{
    /// <summary>The start of the line <see cref="RunAsync"/> writes once the silo has joined (scripts/cluster.sh waits for it).</summary>
    public const string ListeningLine = "silo listening on ";

    /// <summary>
    /// Runs the silo until <paramref name="cancel"/> (SIGTERM, Ctrl-C), then leaves the cluster cleanly (its shards
    /// move to the other silos). Writes a few time-stamped lines to <paramref name="write"/>: the start
    /// (<see cref="ListeningLine"/> once it has joined and serves), other silos joining and dying, each shard it loads,
    /// the stop; Orleans' own messages from Error up (all from Information with <see cref="ClusterSiloOptions.Verbose"/>).
    /// </summary>
    /// <exception cref="ClusterUnavailableException">PostgreSQL does not answer.</exception>
    /// <exception cref="ArgumentException">The gallery's shard count is not <see cref="ClusterSiloOptions.Shards"/>.</exception>
    public static async Task RunAsync(ClusterSiloOptions options, Action<string> write, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(write);
        var database = ClusterDatabase.Create(options.ConnectionString);
        await using var _ = database;
        int shards;
        try
        {
            shards = await ClusterSchema.EnsureAsync(database.Source, options.Shards, database.Description, cancel);
        }
        catch (Exception e) when (ClusterDatabase.IsUnreachable(e))
        {
            throw database.Unreachable(e);
        }
        var log = new SiloLog(write, options.Verbose);
        var address = options.Address ?? IPAddress.Loopback;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Logging.SetMinimumLevel(options.Verbose ? LogLevel.Debug : LogLevel.Information);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<GalleryStore>();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = ClusterGallery.ClusterId; o.ServiceId = ClusterGallery.ClusterId; });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = database.ConnectionString;
            });
            silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                // A dead silo is declared dead after 2 missed probes of 2 s (Orleans' defaults: 3 of 5 s), so its
                // shards come back on the others within about 5-10 s instead of 15-30 s. Probes answer in milliseconds
                // on a LAN; 2 s still leaves room for a garbage collection pause of a silo loading a large shard.
                o.ProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 2;
                // A silo whose row was not refreshed for this long is left out of the gateway list clients read.
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            });
            // A shard grain loads its shard from PostgreSQL while it activates: 211-244 s for 833k-face shards at 10M
            // faces (12 loading side by side on a loaded 2-core machine, bench/FaceNetSharp.Cluster.Bench), far past
            // Orleans' default activation limit (30 s). 10 min covers about 2M faces a shard at that rate.
            silo.Configure<GrainCollectionOptions>(o => o.ActivationTimeout = TimeSpan.FromMinutes(10));
            silo.Services.AddPlacementDirector<ShardPlacementStrategy, ShardPlacementDirector>();
        });
        using var host = builder.Build();
        log.Line($"silo starting: cluster '{ClusterGallery.ClusterId}' in {database.Description}, {shards} shards");
        await host.StartAsync(cancel);
        var self = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        log.Line($"{ListeningLine}{address}:{options.SiloPort} (clients: port {options.GatewayPort}), {self}");
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var membership = WatchMembershipAsync(host.Services.GetRequiredService<IClusterMembershipService>(), self, log, watching.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, cancel);
        }
        catch (OperationCanceledException)
        {
        }
        await watching.CancelAsync();
        await membership;
        log.Line("silo leaving the cluster (its shards move to the other silos)");
        // Leaving cleanly tells the others at once (no probes needed); bounded, as a stop must not hang.
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StopAsync(stopping.Token);
        log.Line("silo stopped");
    }

    /// <summary>One line per other silo that becomes active or dead (Orleans' membership table, as this silo sees it).</summary>
    private static async Task WatchMembershipAsync(IClusterMembershipService membership, SiloAddress self, SiloLog log, CancellationToken cancel)
    {
        var known = new Dictionary<SiloAddress, SiloStatus>();
        bool first = true;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancel))
            {
                foreach (var (silo, member) in snapshot.Members)
                {
                    if (known.TryGetValue(silo, out var before) && before == member.Status) continue;
                    known[silo] = member.Status;
                    if (silo.Equals(self)) continue;
                    // The first snapshot: the others already there (the table also keeps dead silos of earlier runs).
                    if (first) { if (member.Status == SiloStatus.Active) log.Line($"silo {silo.Endpoint} is active"); continue; }
                    if (member.Status == SiloStatus.Active) log.Line($"silo {silo.Endpoint} joined");
                    else if (member.Status == SiloStatus.Dead) log.Line($"silo {silo.Endpoint} is dead; its shards come back on the others");
                }
                first = false;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
