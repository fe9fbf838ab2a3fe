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
    /// How many shards a new cluster's gallery is split into (fixed for its life, stored in facenet_meta). 12 divides
    /// evenly over 2, 3, 4 and 6 silos; a shard is one grain, so at 100M faces a shard is about 8M faces (6 GiB of
    /// float32 at 192 dimensions), which one silo of a 64 GiB machine holds with room to take over another's.
    /// </summary>
    public const int DefaultShards = 12;

    /// <summary>The key of the advisory lock that serialises schema creation between silos starting at once.</summary>
    private const long SchemaLockKey = 0x46_61_63_65_4E_65_74; // "FaceNet"

    /// <summary>Applies both scripts in one transaction (a second caller waits, then finds everything there).</summary>
    public static async Task EnsureAsync(NpgsqlDataSource source, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(cancel);
        await Execute(connection, tx, $"SELECT pg_advisory_xact_lock({SchemaLockKey})", cancel);
        await Execute(connection, tx, Script("orleans-clustering-postgresql.sql"), cancel);
        await Execute(connection, tx, Script("gallery-postgresql.sql"), cancel);
        await Execute(connection, tx,
            $"INSERT INTO facenet_meta (key, value) VALUES ('shards', '{DefaultShards}') ON CONFLICT (key) DO NOTHING", cancel);
        int shards = await ShardCountAsync(connection, tx, cancel);
        await Execute(connection, tx,
            $"INSERT INTO facenet_shards (shard) SELECT generate_series(0, {shards - 1}) ON CONFLICT (shard) DO NOTHING", cancel);
        await tx.CommitAsync(cancel);
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
