using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FaceNetSharp.IO;
using FaceNetSharp.Recognition;
using Npgsql;
using NpgsqlTypes;

namespace FaceNetSharp.Cluster;

/// <summary>One face to store: a unit vector, where it came from, and when it was added (ISO 8601 UTC).</summary>
internal readonly record struct StoredFace(float[] UnitVector, string? Source, string AddedAt);

/// <summary>
/// The gallery's tables in PostgreSQL (Sql/gallery-postgresql.sql): writes (each one transaction, committed before the
/// caller is told it succeeded), the listing and export clients read directly, and the shard loads of the grains.
/// </summary>
internal sealed class GalleryStore
{
    public GalleryStore(ClusterDatabase database) => Database = database;

    public ClusterDatabase Database { get; }

    /// <summary>The gallery's vector length, or 0 while no model is bound (nothing enrolled yet).</summary>
    public async Task<int> DimensionsAsync(CancellationToken cancel = default)
    {
        await using var connection = await Database.OpenAsync(cancel);
        await using var cmd = new NpgsqlCommand("SELECT value FROM facenet_meta WHERE key = 'dimensions'", connection);
        return int.TryParse((string?)await cmd.ExecuteScalarAsync(cancel), NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : 0;
    }

    /// <summary>
    /// Checks that the cluster's gallery is of <paramref name="modelId"/> with <paramref name="dimensions"/>; with
    /// <paramref name="bind"/>, a gallery bound to no model yet is bound to this one (the first enrolment does that).
    /// </summary>
    /// <returns>False when the gallery is not bound to any model yet (and <paramref name="bind"/> was false).</returns>
    /// <exception cref="EmbeddingModelMismatchException">The gallery holds another model's vectors.</exception>
    public async Task<bool> CheckModelAsync(string modelId, int dimensions, bool bind, CancellationToken cancel = default)
    {
        await using var connection = await Database.OpenAsync(cancel);
        if (bind)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO facenet_meta (key, value) VALUES ('model_id', @m), ('dimensions', @d) ON CONFLICT (key) DO NOTHING", connection);
            insert.Parameters.AddWithValue("m", modelId);
            insert.Parameters.AddWithValue("d", dimensions.ToString(CultureInfo.InvariantCulture));
            await insert.ExecuteNonQueryAsync(cancel);
        }
        string? storedModel = null, storedDims = null;
        await using (var read = new NpgsqlCommand("SELECT key, value FROM facenet_meta WHERE key IN ('model_id', 'dimensions')", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancel))
        {
            while (await reader.ReadAsync(cancel))
            {
                if (reader.GetString(0) == "model_id") storedModel = reader.GetString(1);
                else storedDims = reader.GetString(1);
            }
        }
        if (storedModel is null) return false;
        int dims = int.TryParse(storedDims, NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : 0;
        if (storedModel != modelId || dims != dimensions)
            throw new EmbeddingModelMismatchException($"the cluster gallery ({Database.Description})", storedModel, dims, modelId, dimensions);
        return true;
    }

    /// <summary>
    /// Adds several people's faces, one transaction per shard (all of a shard's faces or none), with binary COPY.
    /// </summary>
    /// <returns>The shards written.</returns>
    public async Task<IReadOnlyList<int>> AddPeopleAsync(string modelId, int shards,
        IEnumerable<(string Name, IReadOnlyList<StoredFace> Faces)> people, CancellationToken cancel = default)
    {
        var byShard = new SortedDictionary<int, List<(string Name, IReadOnlyList<StoredFace> Faces)>>();
        foreach (var person in people)
        {
            if (person.Faces.Count == 0) continue;
            int shard = ClusterSchema.ShardOf(person.Name, shards);
            if (!byShard.TryGetValue(shard, out var list)) byShard[shard] = list = [];
            list.Add(person);
        }
        await using var connection = await Database.OpenAsync(cancel);
        foreach (var (shard, list) in byShard)
        {
            await using var tx = await connection.BeginTransactionAsync(cancel);
            await LockShardAsync(connection, tx, shard, removal: false, cancel);
            var ids = await UpsertPeopleAsync(connection, tx, shard, list.Select(p => p.Name).Distinct(StringComparer.Ordinal).ToArray(), cancel);
            await using (var copy = await connection.BeginBinaryImportAsync(
                "COPY facenet_faces (shard, person_id, model, vector, source, added_at) FROM STDIN (FORMAT BINARY)", cancel))
            {
                foreach (var (name, faces) in list)
                {
                    long personId = ids[name];
                    foreach (var face in faces)
                    {
                        await copy.StartRowAsync(cancel);
                        await copy.WriteAsync(shard, NpgsqlDbType.Integer, cancel);
                        await copy.WriteAsync(personId, NpgsqlDbType.Bigint, cancel);
                        await copy.WriteAsync(modelId, NpgsqlDbType.Text, cancel);
                        await copy.WriteAsync(ToBytes(face.UnitVector), NpgsqlDbType.Bytea, cancel);
                        if (face.Source is null) await copy.WriteNullAsync(cancel);
                        else await copy.WriteAsync(face.Source, NpgsqlDbType.Text, cancel);
                        await copy.WriteAsync(face.AddedAt, NpgsqlDbType.Text, cancel);
                    }
                }
                await copy.CompleteAsync(cancel);
            }
            await tx.CommitAsync(cancel);
        }
        return [.. byShard.Keys];
    }

    /// <summary>Removes a person and their faces in one transaction; returns their shard, or null when unknown.</summary>
    public async Task<int?> RemoveAsync(string person, int shards, CancellationToken cancel = default)
    {
        int shard = ClusterSchema.ShardOf(person, shards);
        await using var connection = await Database.OpenAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(cancel);
        await LockShardAsync(connection, tx, shard, removal: true, cancel);
        await using var delete = new NpgsqlCommand("DELETE FROM facenet_people WHERE name = @n", connection, tx); // faces cascade
        delete.Parameters.AddWithValue("n", person);
        int removed = await delete.ExecuteNonQueryAsync(cancel);
        if (removed == 0)
        {
            await tx.RollbackAsync(cancel); // nothing changed: the shard's grain need not reload
            return null;
        }
        await tx.CommitAsync(cancel);
        return shard;
    }

    /// <summary>Every person and their number of faces, by name in ordinal (byte) order, as the SQLite gallery lists them.</summary>
    public async Task<IReadOnlyList<GalleryPerson>> ListAsync(CancellationToken cancel = default)
    {
        await using var connection = await Database.OpenAsync(cancel);
        await using var cmd = new NpgsqlCommand("""
            SELECT p.name, COUNT(f.id) FROM facenet_people p LEFT JOIN facenet_faces f ON f.person_id = p.id
            GROUP BY p.id, p.name ORDER BY p.name COLLATE "C"
            """, connection);
        await using var reader = await cmd.ExecuteReaderAsync(cancel);
        var result = new List<GalleryPerson>();
        while (await reader.ReadAsync(cancel)) result.Add(new GalleryPerson(reader.GetString(0), (int)reader.GetInt64(1)));
        return result;
    }

    /// <summary>How many faces a person has (0 for an unknown name): one indexed lookup, not the whole listing.</summary>
    public async Task<int> FaceCountOfAsync(string person, CancellationToken cancel = default)
    {
        await using var connection = await Database.OpenAsync(cancel);
        await using var cmd = new NpgsqlCommand(
            "SELECT COUNT(f.id) FROM facenet_faces f JOIN facenet_people p ON p.id = f.person_id WHERE p.name = @n", connection);
        cmd.Parameters.AddWithValue("n", person);
        return (int)(long)(await cmd.ExecuteScalarAsync(cancel))!;
    }

    /// <summary>
    /// Writes the whole gallery as the SQLite gallery's export JSON, from one consistent snapshot (repeatable read),
    /// atomically (<see cref="AtomicFile"/>). Returns the number of people written.
    /// </summary>
    public async Task<int> ExportAsync(string jsonPath, string modelId, int dimensions, CancellationToken cancel = default)
    {
        await using var connection = await Database.OpenAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancel);
        int people = 0;
        await using (var cmd = new NpgsqlCommand("""
            SELECT p.id, p.name, f.vector, f.source, f.added_at
            FROM facenet_people p JOIN facenet_faces f ON f.person_id = p.id ORDER BY p.name COLLATE "C", f.id
            """, connection, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(cancel))
        {
            // AtomicFile writes synchronously; the rows are read synchronously inside it (one open reader, no other I/O).
            AtomicFile.Write(jsonPath, stream =>
            {
                using var export = new GalleryExportWriter(stream, modelId, dimensions);
                var vector = new float[dimensions];
                while (reader.Read())
                {
                    if (!TryDecode(reader.GetFieldValue<byte[]>(2), vector)) continue; // not a vector of this gallery: nothing to restore
                    export.Face(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), vector);
                }
                export.Finish();
                people = export.People;
            });
        }
        await tx.CommitAsync(cancel);
        return people;
    }

    /// <summary>
    /// Reads an export (the SQLite gallery's or the cluster's) and checks it is of this model; vectors normalised.
    /// </summary>
    public static List<(string Name, IReadOnlyList<StoredFace> Faces)> ReadExport(string jsonPath, string modelId, int dimensions)
    {
        return GalleryExportReader.Read(jsonPath, modelId, dimensions)
            .Select(p => (p.Name, (IReadOnlyList<StoredFace>)p.Faces.Select(f => new StoredFace(f.UnitVector, f.Source, f.AddedAt)).ToList()))
            .ToList();
    }

    /// <summary>What a shard grain holds after <see cref="ReadShardAsync"/>: the index and the shard state it reflects.</summary>
    public sealed record ShardState(GalleryIndex Index, long Version, long Generation, int Damaged);

    /// <summary>
    /// Brings a shard grain's index up to date: nothing to do when the shard's version and generation are those of
    /// <paramref name="state"/>; a new index of every face of the shard when the generation moved (a removal) or there
    /// is no state yet; else the faces with ids above the last one read are appended to the same index (a view taken
    /// before does not see them). One repeatable-read snapshot, so the version read and the rows read agree.
    /// </summary>
    public async Task<ShardState> ReadShardAsync(int shard, int dimensions, ShardState? state, CancellationToken cancel)
    {
        await using var connection = await Database.OpenAsync(cancel);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancel);
        long version, generation;
        await using (var head = new NpgsqlCommand("SELECT version, generation FROM facenet_shards WHERE shard = @s", connection, tx))
        {
            head.Parameters.AddWithValue("s", shard);
            await using var reader = await head.ExecuteReaderAsync(cancel);
            if (!await reader.ReadAsync(cancel)) throw new InvalidDataException($"shard {shard} is not in facenet_shards");
            version = reader.GetInt64(0);
            generation = reader.GetInt64(1);
        }
        if (state is not null && state.Version == version && state.Generation == generation) return state;

        bool full = state is null || state.Generation != generation;
        var index = full ? new GalleryIndex(dimensions) : state!.Index;
        int damaged = full ? 0 : state!.Damaged;
        if (full)
        {
            await using var count = new NpgsqlCommand("SELECT COUNT(*) FROM facenet_faces WHERE shard = @s", connection, tx) { CommandTimeout = 0 };
            count.Parameters.AddWithValue("s", shard);
            index.EnsureCapacity((int)(long)(await count.ExecuteScalarAsync(cancel))!);
        }
        await using (var cmd = new NpgsqlCommand("""
            SELECT f.id, f.person_id, p.name, f.vector FROM facenet_faces f JOIN facenet_people p ON p.id = f.person_id
            WHERE f.shard = @s AND f.id > @after ORDER BY f.id
            """, connection, tx))
        {
            // No limit of its own (Npgsql's default is 30 s): a full shard of 833k faces took longer than that to read
            // at 10M faces on a loaded machine, and every load was cancelled and tried again. The load is bounded by
            // the activation's limit instead (ClusterSilo: 10 min), through the cancellation token.
            cmd.CommandTimeout = 0;
            cmd.Parameters.AddWithValue("s", shard);
            cmd.Parameters.AddWithValue("after", full ? 0L : index.MaxFaceId);
            await using var reader = await cmd.ExecuteReaderAsync(cancel);
            var bytes = new byte[dimensions * sizeof(float)];
            var vector = new float[dimensions];
            while (await reader.ReadAsync(cancel))
            {
                long faceId = reader.GetInt64(0);
                long length = reader.GetBytes(3, 0, null, 0, 0);
                if (length != bytes.Length) { index.Skip(faceId); damaged++; continue; }
                reader.GetBytes(3, 0, bytes, 0, bytes.Length);
                if (!TryDecode(bytes, vector)) { index.Skip(faceId); damaged++; continue; }
                index.Append(faceId, reader.GetInt64(1), reader.GetString(2), vector);
            }
        }
        await tx.CommitAsync(cancel);
        return new ShardState(index, version, generation, damaged);
    }

    /// <summary>
    /// Takes the shard's row lock for the rest of the transaction (writers of a shard take turns, so its face ids
    /// commit in increasing order) and moves its version on; a removal also moves its generation on.
    /// </summary>
    private static async Task LockShardAsync(NpgsqlConnection connection, NpgsqlTransaction tx, int shard, bool removal, CancellationToken cancel)
    {
        var sql = removal
            ? "UPDATE facenet_shards SET version = version + 1, generation = generation + 1 WHERE shard = @s"
            : "UPDATE facenet_shards SET version = version + 1 WHERE shard = @s";
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        cmd.Parameters.AddWithValue("s", shard);
        if (await cmd.ExecuteNonQueryAsync(cancel) != 1) throw new InvalidDataException($"shard {shard} is not in facenet_shards");
    }

    private static async Task<Dictionary<string, long>> UpsertPeopleAsync(NpgsqlConnection connection, NpgsqlTransaction tx, int shard,
        string[] names, CancellationToken cancel)
    {
        // DO UPDATE (a no-op change) rather than DO NOTHING, so that RETURNING gives the id of an existing person too.
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO facenet_people (name, shard) SELECT n, @s FROM unnest(@names) AS n
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name
            """, connection, tx);
        cmd.Parameters.AddWithValue("s", shard);
        cmd.Parameters.AddWithValue("names", names);
        await using var reader = await cmd.ExecuteReaderAsync(cancel);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancel)) ids[reader.GetString(1)] = reader.GetInt64(0);
        return ids;
    }

    private static byte[] ToBytes(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(vector.AsSpan()).CopyTo(bytes);
        else for (int i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), vector[i]);
        return bytes;
    }

    /// <summary>Decodes a stored vector; false when it is not a finite vector of this length.</summary>
    private static bool TryDecode(byte[] bytes, float[] vector)
    {
        if (bytes.Length != vector.Length * sizeof(float)) return false;
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(bytes).CopyTo(vector);
        else for (int i = 0; i < vector.Length; i++) vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        foreach (var x in vector) if (!float.IsFinite(x)) return false;
        return true;
    }
}
