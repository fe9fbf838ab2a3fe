using System.CommandLine;
using System.Net;
using FaceNetSharp.Cluster;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>
/// <c>facenet silo --postgres CONN [--port N --gateway-port M --address IP --shards N --verbose]</c>: one Orleans silo of a cluster gallery
/// (src/FaceNetSharp.Cluster) until SIGTERM or Ctrl+C; <c>--cluster CONN</c> on the gallery commands makes them its clients.
/// </summary>
internal static class SiloCommand
{
    /// <summary>The variable <c>--cluster</c> and <c>--postgres</c> default to (scripts/cluster.sh prints it).</summary>
    public const string ClusterVariable = "FACENET_CLUSTER";

    public static Command Create(CliContext ctx)
    {
        var postgres = new Option<string?>("--postgres") { Description = $"The cluster's PostgreSQL connection string, e.g. Host=db1;Port=5432;Username=facenet;Password=...;Database=facenet (default: ${ClusterVariable})" };
        var port = new Option<int>("--port") { Description = "Silo-to-silo port", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port clients (facenet gallery --cluster, serve) connect to", DefaultValueFactory = _ => 30000 };
        var address = new Option<string>("--address") { Description = "This machine's address as the other silos and the clients reach it (for several machines: its LAN address)", DefaultValueFactory = _ => "127.0.0.1" };
        var shards = new Option<int?>("--shards") { Description = $"Shards of a new cluster gallery (default {ClusterSchema.DefaultShards}; fixed when the first silo or client creates the gallery, and a silo asking another count of an existing one is refused)" };
        var cmd = new Command("silo", "Run one silo of a cluster gallery (Orleans over PostgreSQL) until stopped; --verbose adds Orleans' own messages")
        {
            postgres, port, gatewayPort, address, shards,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            var connection = parse.GetValue(postgres) ?? Environment.GetEnvironmentVariable(ClusterVariable);
            if (string.IsNullOrWhiteSpace(connection)) throw new ArgumentException($"--postgres is required (or set ${ClusterVariable})");
            if (!IPAddress.TryParse(parse.GetValue(address), out var ip)) throw new ArgumentException($"--address '{parse.GetValue(address)}' is not an IP address");
            foreach (var (name, value) in new[] { ("--port", parse.GetValue(port)), ("--gateway-port", parse.GetValue(gatewayPort)) })
                if (value is < 1 or > 65535) throw new ArgumentException($"{name} must be between 1 and 65535");
            if (parse.GetValue(shards) is < 1 or > ClusterSchema.MaxShards) throw new ArgumentException($"--shards must be between 1 and {ClusterSchema.MaxShards}");
            var options = new ClusterSiloOptions(connection, parse.GetValue(port), parse.GetValue(gatewayPort), ip)
            {
                Shards = parse.GetValue(shards),
                Verbose = parse.GetValue(CliApp.Verbose),
            };
            // Plain lines (no markup: Orleans' messages may hold brackets), flushed as they come, for log files.
            await ClusterSilo.RunAsync(options, line => { Console.Out.WriteLine(line); Console.Out.Flush(); }, cancel);
            return 0;
        });
        return cmd;
    }

    /// <summary>The <c>--cluster</c> option of the gallery commands (recursive, so it may come before or after the subcommand).</summary>
    public static Option<string?> ClusterOption() => new("--cluster")
    {
        Description = $"Use the cluster gallery whose PostgreSQL this connection string names instead of a file (default: ${ClusterVariable})",
        Recursive = true,
    };

    /// <summary>The cluster connection string given by <c>--cluster</c> or ${ClusterVariable}, or null for a local gallery.</summary>
    public static string? ClusterConnection(ParseResult parse, Option<string?> cluster)
    {
        var value = parse.GetValue(cluster);
        if (string.IsNullOrWhiteSpace(value)) value = Environment.GetEnvironmentVariable(ClusterVariable);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
