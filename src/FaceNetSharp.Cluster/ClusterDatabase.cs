using System.Net.Sockets;
using Npgsql;

namespace FaceNetSharp.Cluster;

/// <summary>
/// The connection to a cluster's PostgreSQL: a pooled <see cref="NpgsqlDataSource"/> with bounded time-outs, and the
/// translation of "cannot connect" into a <see cref="ClusterUnavailableException"/> that names the server.
/// </summary>
internal sealed class ClusterDatabase : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Seconds to wait for PostgreSQL to accept a connection. A server on the same network answers in milliseconds;
    /// 5 s lets a busy one through and still answers "unreachable" well before a user would give up.
    /// </summary>
    public const int ConnectTimeoutSeconds = 5;

    private ClusterDatabase(string connectionString, NpgsqlDataSource source, string description)
    {
        ConnectionString = connectionString;
        Source = source;
        Description = description;
    }

    /// <summary>The connection string as given (Orleans' membership provider opens its own connections with it).</summary>
    public string ConnectionString { get; }

    public NpgsqlDataSource Source { get; }

    /// <summary>"PostgreSQL at host:port, database db", for messages (never the password).</summary>
    public string Description { get; }

    /// <summary>Parses <paramref name="connectionString"/> (Npgsql's key=value form), adding the default time-outs.</summary>
    /// <exception cref="ArgumentException">It is not a connection string.</exception>
    public static ClusterDatabase Create(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ArgumentException($"'{connectionString}' is not a PostgreSQL connection string (expected e.g. " +
                "Host=127.0.0.1;Port=5432;Username=facenet;Database=facenet): " + e.Message, e);
        }
        if (string.IsNullOrWhiteSpace(builder.Host)) throw new ArgumentException($"the cluster connection string '{connectionString}' has no Host");
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase)) builder.Timeout = ConnectTimeoutSeconds;
        var description = $"PostgreSQL at {builder.Host}:{builder.Port}, database {builder.Database ?? builder.Username ?? "(default)"}";
        return new ClusterDatabase(builder.ConnectionString, NpgsqlDataSource.Create(builder.ConnectionString), description);
    }

    /// <summary>Opens a connection; an unreachable server is a <see cref="ClusterUnavailableException"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancel = default)
    {
        try
        {
            return await Source.OpenConnectionAsync(cancel);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            throw Unreachable(e);
        }
    }

    public ClusterUnavailableException Unreachable(Exception e) => new(
        $"cannot reach {Description} ({Reason(e)}): is the cluster up? ('scripts/cluster.sh up DIR' starts one here)", e);

    /// <summary>A failure to connect or a broken connection (not an SQL error of a working server).</summary>
    public static bool IsUnreachable(Exception e) => e switch
    {
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } => true,
        NpgsqlException n when n is not PostgresException && n.IsTransient => true,
        PostgresException p => p.SqlState is "57P01" or "57P02" or "57P03" or "3D000" or "28P01" or "28000",
        SocketException or TimeoutException => true,
        _ => false,
    };

    private static string Reason(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        { InnerException: SocketException s } => s.Message,
        { InnerException: TimeoutException } => $"no answer within {ConnectTimeoutSeconds} s",
        _ => e.Message,
    };

    public ValueTask DisposeAsync() => Source.DisposeAsync();

    public void Dispose() => Source.Dispose();
}
