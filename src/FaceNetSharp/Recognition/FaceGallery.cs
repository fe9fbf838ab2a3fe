using FaceNetSharp.IO;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace FaceNetSharp.Recognition;

/// <summary>
/// A persistent gallery of people and their face embeddings, in one SQLite file, with exact search (the answers of a
/// brute-force float32 search, found by an int8 SIMD scan and float32 re-ranking: see <see cref="GalleryIndex"/>).
/// </summary>
/// <remarks>
/// <para>
/// The file holds three tables: <c>meta</c> (model id, dimensions, schema version), <c>people</c> and <c>faces</c>
/// (person id, vector as a BLOB of float32 little-endian, source, time added in UTC ISO 8601). A gallery is bound to
/// the embedding model it was built with: opening it with another model id or dimension count throws
/// <see cref="EmbeddingModelMismatchException"/>.
/// </para>
/// <para>
/// Several processes (or several instances in one process) may use one file at once: the file is in WAL journal
/// mode, writers wait for each other (busy timeout) and every change is one transaction, so concurrent adds lose
/// nothing and a process killed mid-add leaves the file as it was before that add. Each instance keeps an index of all
/// vectors in memory (int8 codes, about 200 bytes a face at 192 dims; the float32 vectors too up to 64 MiB, past that
/// in an unlinked temporary file), loaded at open and brought up to date before each <see cref="Identify"/>
/// when the file changed (SQLite's <c>PRAGMA data_version</c>): appended faces are read incrementally, a removal
/// reloads the index.
/// </para>
/// <para>
/// Vectors are L2-normalised on the way in (facenet's embeddings already are, so for them this changes nothing);
/// an all-zero or non-finite vector is refused. A stored vector changed outside the gallery (wrong length, NaN or
/// infinity, not unit length) is left out of the search and listed in <see cref="DamagedFaces"/>;
/// <see cref="CheckFaces"/> and <see cref="DropDamagedFaces"/> find and delete such faces. A file SQLite finds
/// malformed (truncated, overwritten) is an <see cref="InvalidDataException"/> naming it.
/// </para>
/// <para>
/// Thread safety: all members may be called from several threads at once. Writes are serialised on the instance;
/// the search in <see cref="Identify"/> runs outside the lock on a frozen view of the index.
/// </para>
/// </remarks>
public sealed class FaceGallery : IFaceGallery
{
    /// <summary>The schema this code writes. A file with a higher version was written by newer code and is refused.</summary>
    public const int SchemaVersion = 1;

    /// <summary>
    /// How long a writer waits for another process's transaction before failing, in milliseconds. Adds are short
    /// (one transaction of a few rows), so 30 s is only reached when another process holds the file far too long.
    /// </summary>
    private const int BusyTimeoutMs = 30_000;

    /// <summary>
    /// How far from 1 a stored vector's L2 norm may be before it counts as damaged. Vectors are normalised in float32
    /// before they are stored, which leaves their norm within about 1e-6 of 1 at a few hundred dimensions; 1e-3 keeps
    /// well clear of that rounding and still catches a changed value large enough to move a distance by 1e-3.
    /// </summary>
    private const float UnitNormTolerance = 1e-3f;

    // SQLite result codes (sqlite3.h): SQLITE_CORRUPT 11 "database disk image is malformed", SQLITE_NOTADB 26.
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    private readonly object _gate = new();
    private readonly SqliteConnection _connection;
    private readonly GalleryIndex _index;
    private GalleryIndexView _view;
    private readonly List<GalleryFaceProblem> _damaged = [];
    private long _dataVersion;
    private bool _changedHere;
    private bool _disposed;

    private FaceGallery(string path, SqliteConnection connection, string modelId, int dimensions, EmbeddingMetric metric)
    {
        FilePath = path;
        _connection = connection;
        ModelId = modelId;
        Dimensions = dimensions;
        Metric = metric;
        _index = new GalleryIndex(dimensions);
        _view = _index.View();
    }

    /// <summary>The gallery file's full path.</summary>
    public string FilePath { get; }

    string IFaceGallery.Location => FilePath;

    /// <summary>The id of the embedding model the gallery's vectors come from.</summary>
    public string ModelId { get; }

    /// <summary>The length of every vector in the gallery.</summary>
    public int Dimensions { get; }

    /// <summary>The metric <see cref="Identify"/> reports distances in (a choice of this instance, not stored).</summary>
    public EmbeddingMetric Metric { get; }

    /// <summary>
    /// Opens the gallery at <paramref name="path"/>, creating the file (and its folder) when it does not exist.
    /// </summary>
    /// <param name="path">The SQLite file.</param>
    /// <param name="modelId">The id of the embedding model (e.g. "facenet-20180402-114759"); stored on creation.</param>
    /// <param name="dimensions">The embedding length of that model; stored on creation.</param>
    /// <param name="metric">The metric distances are reported in.</param>
    /// <exception cref="EmbeddingModelMismatchException">The file was built with another model id or dimension.</exception>
    /// <exception cref="InvalidDataException">The file is not a SQLite database, not a gallery, or from a newer schema.</exception>
    public static FaceGallery Open(string path, string modelId, int dimensions,
        EmbeddingMetric metric = EmbeddingMetric.Cosine)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        if (!Enum.IsDefined(metric)) throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown metric");

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Without pooling, Dispose really closes the file (other processes, deleting it, tests).
            Pooling = false,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();

        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            var gallery = new FaceGallery(full, connection, modelId, dimensions, metric);
            gallery.Initialise();
            return gallery;
        }
        catch (SqliteException e) when (Damage(full, e) is { } damage)
        {
            connection.Dispose();
            throw damage;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The error for a file SQLite cannot read as a database (not one at all, or malformed: truncated or overwritten),
    /// naming the file and what to do; null for other SQLite errors.
    /// </summary>
    private static InvalidDataException? Damage(string path, SqliteException e)
    {
        var name = Path.GetFileName(path);
        return (e.SqliteErrorCode & 0xff) switch
        {
            SqliteNotADatabase => new InvalidDataException($"{path} is not a SQLite database (file is not a database): give the path of a gallery file", e),
            SqliteCorrupt => new InvalidDataException(
                $"{path} is damaged (database disk image is malformed): restore {name} from a backup, or start a new gallery " +
                "and import a JSON export of this one into it", e),
            _ => null,
        };
    }

    private void Initialise()
    {
        Execute($"PRAGMA busy_timeout = {BusyTimeoutMs}");
        // WAL: readers never block the writer and the writer never blocks readers; the mode is stored in the file.
        Execute("PRAGMA journal_mode = WAL");

        using (var tx = _connection.BeginTransaction(deferred: false))
        {
            bool hasMeta = Scalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", tx) > 0;
            bool hasOtherTables = Scalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", tx) > 0;
            if (!hasMeta && hasOtherTables)
                throw new InvalidDataException($"{FilePath} is a SQLite database but not a face gallery (no 'meta' table)");
            if (!hasMeta)
            {
                Execute("""
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE people (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE);
                    CREATE TABLE faces (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
                        vector BLOB NOT NULL,
                        source TEXT,
                        added_at TEXT NOT NULL);
                    CREATE INDEX faces_person ON faces(person_id);
                    """, tx);
                // AUTOINCREMENT: ids are never reused, so "rows with id <= the last one loaded are unchanged" tells an
                // append from any other change (see Refresh).
                InsertMeta("model_id", ModelId, tx);
                InsertMeta("dimensions", Dimensions.ToString(CultureInfo.InvariantCulture), tx);
                InsertMeta("schema_version", SchemaVersion.ToString(CultureInfo.InvariantCulture), tx);
            }
            else
            {
                CheckMeta(tx);
            }
            tx.Commit();
        }
        _dataVersion = Scalar<long>("PRAGMA data_version");
        using var read = _connection.BeginTransaction(deferred: true);
        Reload(read);
        read.Commit();
    }

    private void InsertMeta(string key, string value, SqliteTransaction tx)
    {
        using var cmd = Command("INSERT INTO meta (key, value) VALUES ($k, $v)", tx);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$v", value);
        cmd.ExecuteNonQuery();
    }

    private void CheckMeta(SqliteTransaction tx)
    {
        var meta = new Dictionary<string, string>();
        using (var cmd = Command("SELECT key, value FROM meta", tx))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetString(1);

        if (!meta.TryGetValue("model_id", out var storedModel) || !meta.TryGetValue("dimensions", out var dimsText) ||
            !int.TryParse(dimsText, NumberStyles.None, CultureInfo.InvariantCulture, out int storedDims) ||
            !meta.TryGetValue("schema_version", out var versionText) ||
            !int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            throw new InvalidDataException($"{FilePath}: the gallery's meta table lacks model_id, dimensions or schema_version");
        if (version > SchemaVersion)
            throw new InvalidDataException(
                $"{FilePath} has gallery schema version {version}; this code reads up to version {SchemaVersion}");
        if (storedModel != ModelId || storedDims != Dimensions)
            throw new EmbeddingModelMismatchException(FilePath, storedModel, storedDims, ModelId, Dimensions);
    }

    /// <summary>
    /// Adds faces to a person, creating the person when new, in one transaction: either all faces are stored or,
    /// on any error, none.
    /// </summary>
    /// <param name="person">The person's name (case-sensitive, not blank).</param>
    /// <param name="faces">The embeddings, each <see cref="Dimensions"/> long, and where each came from (e.g. an image path), or null.</param>
    /// <returns>How many faces were added (0 when <paramref name="faces"/> is empty; then no person is created).</returns>
    public int AddFaces(string person, IEnumerable<(float[] vector, string? source)> faces)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        ArgumentNullException.ThrowIfNull(faces);
        // Validate everything before writing anything.
        var rows = new List<(byte[] Blob, string? Source)>();
        foreach (var (vector, source) in faces)
        {
            ArgumentNullException.ThrowIfNull(vector, nameof(faces));
            var unit = VectorMath.Normalized(vector, Dimensions, $"face {rows.Count} of '{person}'");
            rows.Add((ToBlob(unit), source));
        }
        if (rows.Count == 0) return 0;

        var addedAt = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _connection.BeginTransaction(deferred: false);
            long personId = GetOrCreatePerson(person, tx);
            InsertFaces(personId, rows.Select(r => (r.Blob, r.Source, addedAt)), tx);
            tx.Commit();
            _changedHere = true;
        }
        return rows.Count;
    }

    private long? FindPerson(string name, SqliteTransaction tx)
    {
        using var find = Command("SELECT id FROM people WHERE name = $n", tx);
        find.Parameters.AddWithValue("$n", name);
        return find.ExecuteScalar() as long?;
    }

    private long GetOrCreatePerson(string name, SqliteTransaction tx)
    {
        if (FindPerson(name, tx) is { } id) return id;
        using var insert = Command("INSERT INTO people (name) VALUES ($n) RETURNING id", tx);
        insert.Parameters.AddWithValue("$n", name);
        return (long)insert.ExecuteScalar()!;
    }

    private void InsertFaces(long personId, IEnumerable<(byte[] Blob, string? Source, string AddedAt)> rows, SqliteTransaction tx)
    {
        using var cmd = Command("INSERT INTO faces (person_id, vector, source, added_at) VALUES ($p, $v, $s, $t)", tx);
        var p = cmd.Parameters.Add("$p", SqliteType.Integer);
        var v = cmd.Parameters.Add("$v", SqliteType.Blob);
        var s = cmd.Parameters.Add("$s", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Text);
        cmd.Prepare();
        foreach (var (blob, source, addedAt) in rows)
        {
            p.Value = personId;
            v.Value = blob;
            s.Value = (object?)source ?? DBNull.Value;
            t.Value = addedAt;
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The people in the gallery file now (including other processes' changes), by name (ordinal).</summary>
    public IReadOnlyList<GalleryPerson> List()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var result = new List<GalleryPerson>();
            using var cmd = Command("""
                SELECT p.name, COUNT(f.id) FROM people p LEFT JOIN faces f ON f.person_id = p.id
                GROUP BY p.id ORDER BY p.name
                """);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) result.Add(new GalleryPerson(reader.GetString(0), reader.GetInt32(1)));
            return result;
        }
    }

    /// <summary>How many faces <paramref name="person"/> has in the gallery file now (0 for an unknown name).</summary>
    public int FaceCountOf(string person)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        lock (_gate)
        {
            ThrowIfDisposed();
            using var cmd = Command("SELECT COUNT(f.id) FROM faces f JOIN people p ON f.person_id = p.id WHERE p.name = $n");
            cmd.Parameters.AddWithValue("$n", person);
            return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Removes a person and all their faces, in one transaction.</summary>
    /// <returns>True when the person was in the gallery.</returns>
    public bool Remove(string person)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(person);
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _connection.BeginTransaction(deferred: false);
            var id = FindPerson(person, tx);
            if (id is null) return false;
            // Faces first, explicitly: the cascade needs PRAGMA foreign_keys on every connection.
            using (var delFaces = Command("DELETE FROM faces WHERE person_id = $id", tx))
            {
                delFaces.Parameters.AddWithValue("$id", id.Value);
                delFaces.ExecuteNonQuery();
            }
            using (var delPerson = Command("DELETE FROM people WHERE id = $id", tx))
            {
                delPerson.Parameters.AddWithValue("$id", id.Value);
                delPerson.ExecuteNonQuery();
            }
            tx.Commit();
            _changedHere = true;
            return true;
        }
    }

    /// <summary>
    /// Finds the people whose closest face is nearest to <paramref name="query"/>: exactly the answer of a float32
    /// search over every face (ties: the person enrolled first).
    /// </summary>
    /// <param name="query">An embedding of <see cref="Dimensions"/> elements (normalised here).</param>
    /// <param name="top">How many people to return at most (at least 1).</param>
    /// <param name="threshold">
    /// The largest distance, exclusive, at which a match counts as that person (<see cref="GalleryMatch.IsKnown"/>),
    /// in <see cref="Metric"/>'s units. Calibrate it for the model (e.g. with <see cref="ThresholdCalibration"/>).
    /// </param>
    /// <returns>Up to <paramref name="top"/> people, nearest first, one entry per person (their best face); empty when the gallery is empty.</returns>
    public IReadOnlyList<GalleryMatch> Identify(ReadOnlySpan<float> query, int top, float threshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "must be finite");
        var unit = VectorMath.Normalized(query, Dimensions, "the query");
        GalleryIndexView view;
        lock (_gate)
        {
            ThrowIfDisposed();
            Refresh();
            view = _view;
        }
        var people = view.TopPeople(unit, top);
        var result = new GalleryMatch[people.Count];
        for (int i = 0; i < people.Count; i++)
        {
            float distance = VectorMath.DistanceFromDot(people[i].Dot, Metric);
            result[i] = new GalleryMatch(view.PersonName(people[i].Person), distance, distance < threshold);
        }
        return result;
    }

    /// <summary>
    /// The faces left out of the search because their stored vectors are damaged (see <see cref="GalleryFaceProblem"/>),
    /// as found when the gallery was opened or last brought up to date with the file; empty for a sound file.
    /// </summary>
    public IReadOnlyList<GalleryFaceProblem> DamagedFaces
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                Refresh();
                return [.. _damaged];
            }
        }
    }

    /// <summary>
    /// Reads every face of the file (not the in-memory index) and returns those whose vectors are damaged, or whose
    /// person row is missing, by face id.
    /// </summary>
    public IReadOnlyList<GalleryFaceProblem> CheckFaces()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _connection.BeginTransaction(deferred: true);
            var problems = FindProblems(tx);
            tx.Commit();
            return problems;
        }
    }

    /// <summary>
    /// Deletes the faces <see cref="CheckFaces"/> finds, in one transaction (all or, on any error, none), and returns
    /// them. The people stay, with their other faces.
    /// </summary>
    public IReadOnlyList<GalleryFaceProblem> DropDamagedFaces()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _connection.BeginTransaction(deferred: false);
            var problems = FindProblems(tx);
            using (var delete = Command("DELETE FROM faces WHERE id = $id", tx))
            {
                var id = delete.Parameters.Add("$id", SqliteType.Integer);
                foreach (var p in problems)
                {
                    id.Value = p.FaceId;
                    delete.ExecuteNonQuery();
                }
            }
            tx.Commit();
            if (problems.Count > 0) _changedHere = true;
            return problems;
        }
    }

    private List<GalleryFaceProblem> FindProblems(SqliteTransaction tx)
    {
        var problems = new List<GalleryFaceProblem>();
        using var cmd = Command("SELECT f.id, f.person_id, p.name, f.vector FROM faces f LEFT JOIN people p ON p.id = f.person_id ORDER BY f.id", tx);
        using var reader = cmd.ExecuteReader();
        var vector = new float[Dimensions];
        while (reader.Read())
        {
            long faceId = reader.GetInt64(0);
            if (reader.IsDBNull(2))
                problems.Add(new GalleryFaceProblem(faceId, $"(person {reader.GetInt64(1)}, missing)", "its person is not in the gallery"));
            else if (ReadVector(reader, 3, vector) is { } problem)
                problems.Add(new GalleryFaceProblem(faceId, reader.GetString(2), problem));
        }
        return problems;
    }

    /// <summary>
    /// How many people the in-memory matrix holds (people with at least one searchable face) after bringing it up to
    /// date with the file: the N of a 1:N search (<see cref="IdentificationThreshold.Comparisons"/>).
    /// </summary>
    public int PeopleCount
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                Refresh();
                return _view.People;
            }
        }
    }

    /// <summary>How many faces the in-memory index holds after bringing it up to date with the file.</summary>
    public int FaceCount
    {
        get
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                Refresh();
                return _view.Faces;
            }
        }
    }

    /// <summary>
    /// Writes the whole gallery as JSON (model id, dimensions, people with their faces' vectors, sources and times)
    /// atomically: the file at <paramref name="jsonPath"/> is replaced whole or not at all. Damaged faces
    /// (<see cref="CheckFaces"/>) are left out: their vectors cannot be written as JSON numbers or searched.
    /// </summary>
    public void Export(string jsonPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        lock (_gate)
        {
            ThrowIfDisposed();
            // One read transaction: a consistent snapshot even while other processes write.
            using var tx = _connection.BeginTransaction(deferred: true);
            AtomicFile.Write(jsonPath, stream =>
            {
                using var export = new GalleryExportWriter(stream, ModelId, Dimensions);
                using var cmd = Command("""
                    SELECT p.id, p.name, f.vector, f.source, f.added_at, f.id
                    FROM people p JOIN faces f ON f.person_id = p.id ORDER BY p.name, f.id
                    """, tx);
                using var reader = cmd.ExecuteReader();
                var vector = new float[Dimensions];
                while (reader.Read())
                {
                    if (ReadVector(reader, 2, vector) is not null) continue; // a damaged face (DamagedFaces): nothing to restore
                    export.Face(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), vector);
                }
                export.Finish();
            });
        }
    }

    /// <summary>
    /// Adds every face of an exported gallery (<see cref="Export"/>) to this one, in one transaction. People already
    /// here get the faces added to theirs; importing the same file twice adds its faces twice.
    /// </summary>
    /// <returns>How many faces were added.</returns>
    /// <exception cref="EmbeddingModelMismatchException">The file is from another model id or dimension.</exception>
    /// <exception cref="InvalidDataException">The file is not a gallery export, or a vector in it is malformed.</exception>
    public int Import(string jsonPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        var people = GalleryExportReader.Read(jsonPath, ModelId, Dimensions)
            .Select(p => (p.Name, Faces: p.Faces.Select(f => (ToBlob(f.UnitVector), f.Source, f.AddedAt)).ToList()))
            .ToList();
        AddPeople(people);
        return people.Sum(p => p.Faces.Count);
    }

    /// <summary>
    /// Adds several people's faces (already normalised, as blobs) in one transaction. Internal: bulk enrolment for
    /// <see cref="Import"/> and the benchmark.
    /// </summary>
    internal void AddPeople(IEnumerable<(string Name, List<(byte[] Blob, string? Source, string AddedAt)> Faces)> people)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            using var tx = _connection.BeginTransaction(deferred: false);
            foreach (var (name, faces) in people) InsertFaces(GetOrCreatePerson(name, tx), faces, tx);
            tx.Commit();
            _changedHere = true;
        }
    }

    /// <summary>A unit-length copy of <paramref name="vector"/> as the gallery stores it (float32 little-endian).</summary>
    internal byte[] NormalizedBlob(float[] vector) => ToBlob(VectorMath.Normalized(vector, Dimensions, "the vector"));

    /// <summary>Brings the in-memory index up to date with the file. Caller holds the lock.</summary>
    private void Refresh()
    {
        long version = Scalar<long>("PRAGMA data_version");
        if (version == _dataVersion && !_changedHere) return;
        _dataVersion = version;
        _changedHere = false;
        // One read transaction: the check and the load see the same snapshot of the file (WAL: no writer waits).
        // A commit after the version was read bumps it again, so the next call looks again.
        using var tx = _connection.BeginTransaction(deferred: true);

        // With AUTOINCREMENT ids, the rows loaded so far are unchanged iff exactly as many rows have id <= the
        // last one loaded (searchable or left out as damaged); then only the newer rows need reading. Fewer: faces
        // were deleted, and they leave the index without a reload (RemoveDeleted).
        long unchanged = CountUpTo(_index.MaxFaceId, tx);
        if (unchanged < _index.Faces + _index.Skipped && RemoveDeleted(tx)) unchanged = CountUpTo(_index.MaxFaceId, tx);
        if (unchanged == _index.Faces + _index.Skipped) LoadFaces(_index.MaxFaceId, tx);
        else Reload(tx);
        tx.Commit();
    }

    private long CountUpTo(long maxId, SqliteTransaction tx)
    {
        using var cmd = Command("SELECT COUNT(*) FROM faces WHERE id <= $max", tx);
        cmd.Parameters.AddWithValue("$max", maxId);
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// Takes the faces deleted from the file since the last load out of the index (<see cref="GalleryIndex.Remove"/>)
    /// instead of reloading every vector: reads the ids that remain (8 bytes a face, not the vectors) and removes the
    /// loaded ones that are gone, damaged ones included. Returns false, changing nothing, when a rebuild is better:
    /// when removed rows would outnumber the searchable ones (the rebuild gives their memory back).
    /// </summary>
    private bool RemoveDeleted(SqliteTransaction tx)
    {
        var present = new List<long>(_index.Faces + _index.Skipped);
        using (var cmd = Command("SELECT id FROM faces WHERE id <= $max ORDER BY id", tx))
        {
            cmd.Parameters.AddWithValue("$max", _index.MaxFaceId);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) present.Add(reader.GetInt64(0));
        }
        var gone = _index.FaceIds().Where(id => present.BinarySearch(id) < 0).ToList();
        if (_index.RemovedRows + gone.Count > _index.Faces - gone.Count) return false;
        _index.Remove(gone);
        int damagedGone = _damaged.RemoveAll(d => present.BinarySearch(d.FaceId) < 0);
        _index.ForgetSkipped(damagedGone);
        _view = _index.View();
        return true;
    }

    /// <summary>How many times the whole index was read again from the file (tests check that removals do not).</summary>
    internal int Reloads { get; private set; }

    private void Reload(SqliteTransaction tx)
    {
        Reloads++;
        _index.Clear();
        _damaged.Clear();
        _index.EnsureCapacity((int)Scalar<long>("SELECT COUNT(*) FROM faces", tx));
        LoadFaces(0, tx);
    }

    private void LoadFaces(long afterId, SqliteTransaction tx)
    {
        using var cmd = Command("""
            SELECT f.id, f.person_id, p.name, f.vector FROM faces f JOIN people p ON p.id = f.person_id
            WHERE f.id > $after ORDER BY f.id
            """, tx);
        cmd.Parameters.AddWithValue("$after", afterId);
        using var reader = cmd.ExecuteReader();
        var vector = new float[Dimensions];
        while (reader.Read())
        {
            long faceId = reader.GetInt64(0);
            if (ReadVector(reader, 3, vector) is { } problem)
            {
                // left out of the search; still the last id read, so the next refresh reads only newer rows
                _damaged.Add(new GalleryFaceProblem(faceId, reader.GetString(2), problem));
                _index.Skip(faceId);
                continue;
            }
            _index.Append(faceId, reader.GetInt64(1), reader.GetString(2), vector);
        }
        _view = _index.View();
    }

    /// <summary>
    /// Reads the vector in column <paramref name="column"/> into <paramref name="vector"/>; returns what is wrong with
    /// it (wrong length, NaN or infinite values, not unit length), or null when it can be searched.
    /// </summary>
    private string? ReadVector(SqliteDataReader reader, int column, float[] vector)
    {
        if (reader.IsDBNull(column)) return "no vector";
        var blob = (byte[])reader.GetValue(column);
        if (blob.Length != vector.Length * sizeof(float))
            return $"a {blob.Length}-byte vector; a {Dimensions}-d one has {vector.Length * sizeof(float)}";
        DecodeBlob(blob, vector);
        int bad = 0;
        foreach (var x in vector) if (!float.IsFinite(x)) bad++;
        if (bad > 0) return $"{bad} NaN or infinite value(s) in its vector";
        float norm = TensorPrimitives.Norm(vector);
        if (MathF.Abs(norm - 1f) > UnitNormTolerance)
            return string.Create(CultureInfo.InvariantCulture, $"its vector is not unit length (norm {norm:G6}); the gallery stores unit vectors");
        return null;
    }

    private static byte[] ToBlob(float[] vector)
    {
        var blob = new byte[vector.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(vector.AsSpan()).CopyTo(blob);
        else for (int i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan(i * 4), vector[i]);
        return blob;
    }

    private static void DecodeBlob(byte[] blob, float[] vector)
    {
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(blob).CopyTo(vector);
        else for (int i = 0; i < vector.Length; i++) vector[i] = BinaryPrimitives.ReadSingleLittleEndian(blob.AsSpan(i * 4));
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    private void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        cmd.ExecuteNonQuery();
    }

    private T Scalar<T>(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        return (T)cmd.ExecuteScalar()!;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Closes the file. Faces already added are in the file; the instance cannot be used afterwards.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _connection.Dispose();
            _index.Dispose();
        }
    }
}
