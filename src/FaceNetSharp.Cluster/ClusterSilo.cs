using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace FaceNetSharp.Cluster;

/// <summary>Where a silo listens and which cluster it joins.</summary>
/// <param name="ConnectionString">The cluster's PostgreSQL (membership and gallery).</param>
/// <param name="SiloPort">Silo-to-silo port (Orleans' default 11111).</param>
/// <param name="GatewayPort">Client port (Orleans' default 30000).</param>
/// <param name="Address">The address other silos and clients reach this one at (default 127.0.0.1).</param>
public sealed record ClusterSiloOptions(string ConnectionString, int SiloPort = 11111, int GatewayPort = 30000, IPAddress? Address = null);

/// <summary>
/// Runs one Orleans silo of a cluster gallery: it joins the cluster through the membership table in PostgreSQL and
/// hosts shard grains (<see cref="IGalleryShardGrain"/>), which the cluster spreads over its silos and moves to the
/// others when a silo dies.
/// </summary>
public static class ClusterSilo
{
    /// <summary>
    /// Runs the silo until <paramref name="cancel"/> (SIGTERM, Ctrl-C), then leaves the cluster cleanly (its shards
    /// move to the other silos). <paramref name="ready"/> is called once the silo has joined and serves.
    /// </summary>
    /// <exception cref="ClusterUnavailableException">PostgreSQL does not answer.</exception>
    public static async Task RunAsync(ClusterSiloOptions options, Action<string> ready, CancellationToken cancel)
    {
        var database = ClusterDatabase.Create(options.ConnectionString);
        await using var _ = database;
        try
        {
            await ClusterSchema.EnsureAsync(database.Source, cancel);
        }
        catch (Exception e) when (ClusterDatabase.IsUnreachable(e))
        {
            throw database.Unreachable(e);
        }
        var address = options.Address ?? IPAddress.Loopback;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
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
        });
        using var host = builder.Build();
        await host.StartAsync(cancel);
        ready($"silo listening on {address}:{options.SiloPort} (clients: port {options.GatewayPort}), cluster '{ClusterGallery.ClusterId}' in {database.Description}");
        try
        {
            await Task.Delay(Timeout.Infinite, cancel);
        }
        catch (OperationCanceledException)
        {
        }
        // Leaving cleanly tells the others at once (no probes needed); bounded, as a stop must not hang.
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StopAsync(stopping.Token);
    }
}
