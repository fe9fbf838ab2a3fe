using System.Reflection;
using System.Text;
using Npgsql;

namespace FaceNetSharp.Cluster;

/// <summary>
/// The cluster's tables in PostgreSQL: Orleans' membership (Sql/orleans-clustering-postgresql.sql, for
/// Microsoft.Orleans.Clustering.AdoNet 10.4.2) and the gallery (Sql/gallery-postgresql.sql). Both scripts are
/// idempotent; every silo and client applies them once at start-up.
/// </summary>
internal static class ClusterSchema
{
    /// <summary>
    /// How many shards a new cluster's gallery is split into unless its first silo or client asks for another count
    /// (<c>facenet silo --shards N</c>, <see cref="ClusterClientOptions.Shards"/>); fixed for the gallery's life,
    /// stored in facenet_meta. 12 divides evenly over 2, 3, 4 and 6 silos, so every silo holds the same share; a shard
    /// is one grain and moves whole, so more silos want more shards (at least 2-3 per silo to spread a dead silo's
    /// load over the others).
    /// </summary>
    public const int DefaultShards = 12;

    /// <summary>
    /// The most shards a cluster may have: each identify calls every shard, so thousands would turn one query into
    /// thousands of messages; 1,024 is 10 shards per silo for 100 silos.
    /// </summary>
    public const int MaxShards = 1024;

    /// <summary>The key of the advisory lock that serialises schema creation between silos starting at once.</summary>
    private const long SchemaLockKey = 0x46_61_63_65_4E_65_74; // "FaceNet"

    /// <summary>
    /// Applies both scripts in one transaction (a second caller waits, then finds everything there). A new gallery
    /// gets <paramref name="shards"/> shards (null: <see cref="DefaultShards"/>); an existing one keeps its count, and
    /// asking for another is refused: every silo and client must put a person in the same shard.
    /// </summary>
    /// <returns>The gallery's shard count.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="shards"/> is out of range, or differs from the count the gallery was created with.
    /// </exception>
    public static async Task<int> EnsureAsync(NpgsqlDataSource source, int? shards, string description, CancellationToken cancel)
    {
        if (shards is < 1 or > MaxShards)
            throw new ArgumentException($"the shard count must be between 1 and {MaxShards} (got {shards})", nameof(shards));
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(cancel);
        await Execute(connection, tx, $"SELECT pg_advisory_xact_lock({SchemaLockKey})", cancel);
        await Execute(connection, tx, Script("orleans-clustering-postgresql.sql"), cancel);
        await Execute(connection, tx, Script("gallery-postgresql.sql"), cancel);
        await Execute(connection, tx,
            $"INSERT INTO facenet_meta (key, value) VALUES ('shards', '{shards ?? DefaultShards}') ON CONFLICT (key) DO NOTHING", cancel);
        int stored = await ShardCountAsync(connection, tx, cancel);
        if (shards is not null && shards != stored)
            throw new ArgumentException($"the cluster gallery in {description} was created with {stored} shards, not {shards}: " +
                "the shard count is fixed for a gallery's life (every silo and client must put a person in the same shard); " +
                $"leave the shard count out to use {stored}, or give a new database");
        await Execute(connection, tx,
            $"INSERT INTO facenet_shards (shard) SELECT generate_series(0, {stored - 1}) ON CONFLICT (shard) DO NOTHING", cancel);
        await tx.CommitAsync(cancel);
        return stored;
    }

    public static async Task<int> ShardCountAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken cancel)
    {
        await using var cmd = new NpgsqlCommand("SELECT value FROM facenet_meta WHERE key = 'shards'", connection, tx);
        var text = (string?)await cmd.ExecuteScalarAsync(cancel);
        if (!int.TryParse(text, out int shards) || shards < 1)
            throw new InvalidDataException($"the cluster's facenet_meta table has no valid 'shards' value ({text ?? "none"})");
        return shards;
    }

    /// <summary>
    /// The shard of a person: FNV-1a (32-bit) of the name's UTF-8 bytes, modulo the shard count. Stable across
    /// processes and machines (string.GetHashCode is not), so every client puts a person in the same shard.
    /// </summary>
    public static int ShardOf(string person, int shards)
    {
        uint hash = 2166136261; // FNV-1a offset basis
        foreach (byte b in Encoding.UTF8.GetBytes(person))
        {
            hash ^= b;
            hash *= 16777619; // FNV prime
        }
        return (int)(hash % (uint)shards);
    }

    private static string Script(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"FaceNetSharp.Cluster.Sql.{name}")
            ?? throw new InvalidOperationException($"embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancel)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(cancel);
    }
}
