using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.Win32.SafeHandles;

namespace FaceNetSharp.Recognition;

/// <summary>
/// The in-memory side of a gallery: every face vector as int8 codes (one scale per vector) scanned with SIMD, the exact
/// float32 vectors for re-ranking the best candidates, the person each row belongs to, and the people's names. Rows and
/// people are appended; a removed face (<see cref="Remove"/>) stays as a row that no search returns (its scale becomes
/// NaN, which no comparison passes) until the next rebuild (<see cref="Clear"/>, then appends).
/// </summary>
/// <remarks>
/// <para>
/// Search (<see cref="GalleryIndexView.TopPeople"/>) gives exactly the people, order and float32 dot products of an
/// exhaustive float32 search (<see cref="GalleryIndexView.ExactTopPeople"/>): the int8 scan only chooses which rows to
/// score exactly, and it keeps every row whose int8 score is within a proven error bound of the cut.
/// </para>
/// <para>
/// What is resident: per row the int8 codes (dimensions rounded up to 4 bytes), a float scale and the person index
/// (at 192 dims 200 bytes a row: 200 MB for 1M faces). The float32 vectors stay in memory while they take at most
/// <c>exactInMemoryBytes</c> (64 MiB: 87k rows at 192 dims); past that they move to a temporary file (unlinked at once,
/// so nothing is left behind) and the re-ranking reads only its candidates' rows from it (through the OS's page
/// cache, which is not the process's memory and which the OS may evict).
/// </para>
/// <para>
/// Not thread-safe for writing: one writer at a time (the gallery holds its lock). Readers search a
/// <see cref="GalleryIndexView"/> taken with <see cref="View"/>; a view never sees later appends, because appends
/// only write past the view's row and person counts, and a grown array is a new array. Dispose closes the temporary
/// file of the current rows; one left behind by <see cref="Clear"/> (still readable by older views) closes when the
/// last view holding it is collected.
/// </para>
/// </remarks>
internal sealed class GalleryIndex : IDisposable
{
    /// <summary>Rows per SIMD block: 4 AVX-VNNI accumulators of 8 int32 lanes, one lane per row.</summary>
    internal const int BlockRows = 32;

    /// <summary>
    /// Rows per storage segment (a multiple of <see cref="BlockRows"/>): segments grow the index without copying and
    /// are the unit of work of the parallel scan (32k rows are 6 MiB of codes at 192 dims, about 0.3 ms of scan).
    /// </summary>
    internal const int SegmentRows = 1 << 15;

    /// <summary>
    /// The float32 vectors stay in memory up to this size (64 MiB: 87k rows of 192 dims, where they are a third of the
    /// index's memory) and move to a temporary file past it, so that a 1M-face gallery holds about 200 MB, not 970 MB.
    /// </summary>
    public const long DefaultExactInMemoryBytes = 64L << 20;

    private readonly long _exactInMemoryBytes;
    private readonly string _spillFolder;
    private byte[][] _codes = [];
    private float[][] _scales = [];
    private ExactVectors _exact;
    private int[] _personOfRow = [];
    private long[] _faceIdOfRow = [];
    private int[] _liveRowsOfPerson = [];
    private string[] _names = [];
    private readonly Dictionary<long, int> _personIndexByKey = [];
    private float _maxError;
    private float _maxNorm;

    /// <param name="dimensions">The vectors' length.</param>
    /// <param name="exactInMemoryBytes">
    /// Up to how many bytes of float32 vectors stay in memory before they move to a temporary file (0: from the first row).
    /// </param>
    /// <param name="spillFolder">Where that temporary file goes; the system's temp folder when null.</param>
    public GalleryIndex(int dimensions, long exactInMemoryBytes = DefaultExactInMemoryBytes, string? spillFolder = null)
    {
        if (dimensions <= 0) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "must be positive");
        ArgumentOutOfRangeException.ThrowIfNegative(exactInMemoryBytes);
        Dimensions = dimensions;
        PaddedDimensions = (dimensions + 3) & ~3;
        _exactInMemoryBytes = exactInMemoryBytes;
        _spillFolder = spillFolder ?? Path.GetTempPath();
        _exact = new MemoryExactVectors(dimensions);
    }

    public int Dimensions { get; }

    /// <summary>
    /// One scale for every vector instead of one per vector (the benchmark's comparison; null: per vector). Elements
    /// beyond 127 times it are clipped; the error bound counts the clipping, so answers stay exact.
    /// </summary>
    internal float? GlobalScale { get; init; }

    /// <summary>Quantise one element at a time, as before the SIMD path (the benchmark's before/after build time).</summary>
    internal bool ScalarQuantize { get; init; }

    /// <summary>Dimensions rounded up to a multiple of 4 (VNNI sums 4 bytes per lane); the padding codes are 0.</summary>
    internal int PaddedDimensions { get; }

    /// <summary>Rows stored, removed ones included (what a scan reads).</summary>
    public int Rows { get; private set; }

    /// <summary>Rows not removed: the searchable faces.</summary>
    public int Faces => Rows - RemovedRows;

    /// <summary>Rows removed since the last <see cref="Clear"/>.</summary>
    public int RemovedRows { get; private set; }

    /// <summary>People with at least one searchable face.</summary>
    public int People { get; private set; }

    /// <summary>People ever appended since the last <see cref="Clear"/> (the person indexes in use).</summary>
    public int PersonSlots { get; private set; }

    /// <summary>The highest face id appended so far (SQLite's <c>faces.id</c>), 0 when empty.</summary>
    public long MaxFaceId { get; private set; }

    /// <summary>True when the float32 vectors are in the temporary file rather than in memory.</summary>
    internal bool ExactOnDisk => _exact is FileExactVectors;

    /// <summary>
    /// Bytes of the index held in the process's memory: codes, scales, person indexes, and the float32 vectors while
    /// they are in memory (not the names).
    /// </summary>
    internal long ResidentBytes =>
        (long)_codes.Length * SegmentRows * PaddedDimensions + (long)_scales.Length * SegmentRows * sizeof(float) +
        (long)_personOfRow.Length * (sizeof(int) + sizeof(long)) + _exact.ResidentBytes;

    public void Clear()
    {
        // New arrays (and a new file) rather than reuse, so that views taken before the clear stay valid.
        _codes = [];
        _scales = [];
        _exact = new MemoryExactVectors(Dimensions);
        _personOfRow = [];
        _faceIdOfRow = [];
        _liveRowsOfPerson = [];
        _names = [];
        _personIndexByKey.Clear();
        Rows = 0;
        RemovedRows = 0;
        People = 0;
        PersonSlots = 0;
        MaxFaceId = 0;
        Skipped = 0;
        _maxError = 0;
        _maxNorm = 0;
    }

    /// <summary>
    /// Makes room for <paramref name="rows"/> rows in all, so that loading a known number of faces allocates the
    /// person array once instead of growing it by doubling (codes and vectors grow by segments, without copying).
    /// </summary>
    public void EnsureCapacity(int rows)
    {
        if (rows > _personOfRow.Length)
        {
            Array.Resize(ref _personOfRow, rows);
            Array.Resize(ref _faceIdOfRow, rows);
        }
    }

    /// <summary>Appends one face; <paramref name="unitVector"/> must already be L2-normalised.</summary>
    /// <param name="faceId">The face's id, increasing from call to call.</param>
    /// <param name="personKey">A stable key of the person (SQLite's <c>people.id</c>).</param>
    /// <param name="personName">The person's name, read only when the key is new.</param>
    /// <param name="unitVector">The vector, <see cref="Dimensions"/> long, every element finite.</param>
    /// <exception cref="ArgumentException">The vector has another length or a NaN or infinite element.</exception>
    public void Append(long faceId, long personKey, string personName, ReadOnlySpan<float> unitVector)
    {
        if (unitVector.Length != Dimensions)
            throw new ArgumentException($"a {unitVector.Length}-d vector; the index holds {Dimensions}-d ones", nameof(unitVector));
        // The largest magnitude is NaN or infinite exactly when some element is (one SIMD pass instead of a loop).
        if (!float.IsFinite(TensorPrimitives.MaxMagnitude(unitVector)))
            throw new ArgumentException("the vector has a NaN or infinite element", nameof(unitVector));

        if (!_personIndexByKey.TryGetValue(personKey, out int person))
        {
            person = PersonSlots;
            if (person == _names.Length)
            {
                Array.Resize(ref _names, Math.Max(16, _names.Length * 2));
                Array.Resize(ref _liveRowsOfPerson, _names.Length);
            }
            _names[person] = personName;
            _personIndexByKey.Add(personKey, person);
            PersonSlots++;
        }
        if (_liveRowsOfPerson[person]++ == 0) People++;
        int row = Rows;
        if (row == _personOfRow.Length) EnsureCapacity(Math.Max(64, _personOfRow.Length * 2));
        int segment = row / SegmentRows;
        if (segment == _codes.Length)
        {
            Array.Resize(ref _codes, segment + 1);
            Array.Resize(ref _scales, segment + 1);
            _codes[segment] = new byte[SegmentRows * PaddedDimensions];
            _codes[segment].AsSpan().Fill(Int8Codes.Zero);
            _scales[segment] = new float[SegmentRows];
        }
        var (scale, error) = ScalarQuantize
            ? Int8Codes.QuantizeScalar(unitVector, _codes[segment], row % SegmentRows, PaddedDimensions, GlobalScale)
            : Int8Codes.Quantize(unitVector, _codes[segment], row % SegmentRows, PaddedDimensions, GlobalScale);
        _scales[segment][row % SegmentRows] = scale;
        _maxError = MathF.Max(_maxError, error);
        _maxNorm = MathF.Max(_maxNorm, TensorPrimitives.Norm(unitVector));

        if (_exact is MemoryExactVectors memory && (long)(row + 1) * Dimensions * sizeof(float) > _exactInMemoryBytes)
            _exact = FileExactVectors.Create(_spillFolder, memory, row);
        _exact.Append(row, unitVector);

        _personOfRow[row] = person;
        _faceIdOfRow[row] = faceId;
        Rows++;
        MaxFaceId = faceId;
    }

    /// <summary>
    /// Takes the faces of <paramref name="faceIds"/> out of the search without rebuilding the index: each one's row gets
    /// the scale NaN, so its approximate score is NaN and passes no comparison of the scan, the re-ranking's bound or
    /// <see cref="GalleryIndexView.ExactTopPeople"/>. Ids that are not rows (never appended, skipped, already removed)
    /// are ignored. Views taken before keep their rows: each changed segment's scales are copied, not written in place.
    /// Returns how many rows were removed.
    /// </summary>
    public int Remove(IEnumerable<long> faceIds)
    {
        var rows = new List<int>();
        foreach (long id in faceIds)
        {
            // rows are appended in increasing face id order, so the ids are sorted
            int row = Array.BinarySearch(_faceIdOfRow, 0, Rows, id);
            if (row >= 0 && !float.IsNaN(_scales[row / SegmentRows][row % SegmentRows])) rows.Add(row);
        }
        if (rows.Count == 0) return 0;
        var scales = (float[][])_scales.Clone();
        foreach (var segment in rows.Select(r => r / SegmentRows).Distinct()) scales[segment] = (float[])scales[segment].Clone();
        int removed = 0;
        foreach (int row in rows)
        {
            ref float scale = ref scales[row / SegmentRows][row % SegmentRows];
            if (float.IsNaN(scale)) continue; // listed twice
            scale = float.NaN;
            removed++;
            if (--_liveRowsOfPerson[_personOfRow[row]] == 0) People--;
        }
        _scales = scales;
        RemovedRows += removed;
        return removed;
    }

    /// <summary>The face ids of the rows not removed, in increasing order.</summary>
    public IEnumerable<long> FaceIds()
    {
        for (int row = 0; row < Rows; row++)
            if (!float.IsNaN(_scales[row / SegmentRows][row % SegmentRows])) yield return _faceIdOfRow[row];
    }

    /// <summary>Forgets <paramref name="count"/> of the face ids recorded by <see cref="Skip"/> (those faces were deleted).</summary>
    public void ForgetSkipped(int count) => Skipped = Math.Max(0, Skipped - count);

    /// <summary>
    /// Records <paramref name="faceId"/> as read without adding a row (a damaged face left out of the search), so that
    /// <see cref="MaxFaceId"/> still tells which rows have been read.
    /// </summary>
    public void Skip(long faceId)
    {
        MaxFaceId = faceId;
        Skipped++;
    }

    /// <summary>How many face ids were read and left out (<see cref="Skip"/>) since the last <see cref="Clear"/>.</summary>
    public int Skipped { get; private set; }

    /// <summary>An immutable view of the rows and people appended so far.</summary>
    public GalleryIndexView View()
    {
        _exact.Flush();
        return new(_codes, _scales, _exact, _personOfRow, _names, Rows, People, Dimensions, PaddedDimensions, _maxError, _maxNorm)
        {
            Faces = Faces,
            PersonSlots = PersonSlots,
        };
    }

    /// <summary>Closes the temporary file of the float32 vectors, if there is one.</summary>
    public void Dispose() => _exact.Dispose();
}

/// <summary>A frozen view of a <see cref="GalleryIndex"/>; searches are thread-safe.</summary>
internal sealed class GalleryIndexView
{
    /// <summary>
    /// How many rows the int8 scan keeps by its own score before re-ranking (the first cut; the proven bound then adds
    /// any row that could still beat the answer). 64 is 13 people of 5 faces, above the usual top 5; measured with
    /// bench gallery's --candidates.
    /// </summary>
    internal const int DefaultCandidates = 64;

    /// <summary>
    /// Margin added to the int8 error bound for float rounding: the approximate score's three float products
    /// (relative 2^-22) and the exact float32 dot product's own rounding (under 1e-7 per dimension for unit vectors).
    /// </summary>
    private const float RoundingMargin = 1e-4f;

    private readonly byte[][] _codes;
    private readonly float[][] _scales;
    private readonly ExactVectors _exact;
    private readonly int[] _personOfRow;
    private readonly string[] _names;
    private readonly float _maxError;
    private readonly float _maxNorm;

    internal GalleryIndexView(byte[][] codes, float[][] scales, ExactVectors exact, int[] personOfRow, string[] names,
        int rows, int people, int dimensions, int paddedDimensions, float maxError, float maxNorm)
    {
        _codes = codes;
        _scales = scales;
        _exact = exact;
        _personOfRow = personOfRow;
        _names = names;
        Rows = rows;
        People = people;
        Dimensions = dimensions;
        PaddedDimensions = paddedDimensions;
        _maxError = maxError;
        _maxNorm = maxNorm;
    }

    /// <summary>Rows stored, removed ones included.</summary>
    public int Rows { get; }

    /// <summary>Searchable faces (rows not removed).</summary>
    public int Faces { get; internal init; }

    /// <summary>People with at least one searchable face.</summary>
    public int People { get; }

    /// <summary>Person indexes in use (people whose faces were all removed included).</summary>
    internal int PersonSlots { get; init; }

    public int Dimensions { get; }
    internal int PaddedDimensions { get; }

    /// <summary>How many rows the int8 scan keeps before the bound check (a tuning knob for the benchmark).</summary>
    internal int Candidates { get; private init; } = DefaultCandidates;

    /// <summary>How many threads the scan uses at most (a tuning knob for the benchmark; default all cores).</summary>
    internal int Threads { get; private init; } = Environment.ProcessorCount;

    /// <summary>Use the portable scalar scan even where AVX-VNNI is there (tests compare the two).</summary>
    internal bool ForceScalar { get; private init; }

    /// <summary>The same rows searched with other tuning (benchmark and tests).</summary>
    internal GalleryIndexView Tuned(int candidates, int threads, bool forceScalar) =>
        new(_codes, _scales, _exact, _personOfRow, _names, Rows, People, Dimensions, PaddedDimensions, _maxError, _maxNorm)
        {
            Faces = Faces,
            PersonSlots = PersonSlots,
            Candidates = Math.Max(1, candidates),
            Threads = Math.Max(1, threads),
            ForceScalar = forceScalar,
        };

    public string PersonName(int person) => _names[person];

    /// <summary>Statistics of the last search on this thread (the benchmark reports them).</summary>
    [ThreadStatic] internal static int LastReranked;

    /// <summary>
    /// The <paramref name="top"/> people whose best face has the highest dot product with the unit query, best
    /// first (ties: lower person index first), as (person index, best float32 dot product); exactly
    /// <see cref="ExactTopPeople"/>'s answer.
    /// </summary>
    /// <remarks>
    /// Steps: (1) the int8 scan scores every row approximately (all cores) and keeps the best
    /// <see cref="Candidates"/> rows; (2) those rows are scored exactly in float32, which gives T, the score of the
    /// top-th best person among them, a lower bound of the true top-th best person's score; (3) every row whose
    /// approximate score is at least T - B, B the proven bound on |approximate - exact|, is scored exactly too; no
    /// other row can reach T, so the best faces of the true top people are all among the exactly scored rows.
    /// </remarks>
    public List<(int Person, float Dot)> TopPeople(float[] query, int top)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        if (query.Length != Dimensions) throw new ArgumentException($"a {query.Length}-d query; the index holds {Dimensions}-d vectors", nameof(query));
        if (Rows == 0) return [];
        var q = Int8Codes.QuantizeQuery(query, PaddedDimensions, out float queryScale, out float queryNorm, out float queryError);
        int paddedRows = (Rows + GalleryIndex.BlockRows - 1) / GalleryIndex.BlockRows * GalleryIndex.BlockRows;
        var approx = ArrayPool<float>.Shared.Rent(paddedRows);
        var exactBuffer = ArrayPool<float>.Shared.Rent(Dimensions);
        try
        {
            var (candidateRows, _) = Scan(q, queryScale, approx);
            var exact = new Dictionary<int, float>(candidateRows.Count * 2);
            Rerank(candidateRows, query, exact, exactBuffer);
            float bound = _maxError * queryNorm + _maxNorm * queryError + RoundingMargin;
            float t = TopThScore(exact, top);
            float floor = t - bound;
            // Every row that could still reach T (all of them when the candidates hold fewer than top people).
            var more = new List<int>();
            var scores = approx.AsSpan(0, Rows);
            var floorVector = Vector256.Create(floor);
            int r = 0;
            for (; r + 8 <= scores.Length; r += 8)
            {
                uint reach = Vector256.GreaterThanOrEqual(Vector256.Create(scores.Slice(r, 8)), floorVector).ExtractMostSignificantBits();
                for (; reach != 0; reach &= reach - 1)
                {
                    int k = r + System.Numerics.BitOperations.TrailingZeroCount(reach);
                    if (!exact.ContainsKey(k)) more.Add(k);
                }
            }
            for (; r < scores.Length; r++)
                if (scores[r] >= floor && !exact.ContainsKey(r)) more.Add(r);
            Rerank(more, query, exact, exactBuffer);
            LastReranked = exact.Count;
            return Best(exact, top);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(approx);
            ArrayPool<float>.Shared.Return(exactBuffer);
        }
    }

    /// <summary>
    /// The exhaustive float32 answer: every row's exact dot product, people by their best face, best first (ties:
    /// lower person index first). The reference <see cref="TopPeople"/> equals; reads every float32 vector.
    /// </summary>
    public List<(int Person, float Dot)> ExactTopPeople(float[] query, int top)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        var best = new float[PersonSlots];
        Array.Fill(best, float.NegativeInfinity);
        var buffer = new float[Dimensions];
        for (int r = 0; r < Rows; r++)
        {
            if (float.IsNaN(_scales[r / GalleryIndex.SegmentRows][r % GalleryIndex.SegmentRows])) continue; // removed
            float dot = TensorPrimitives.Dot(_exact.Row(r, buffer), query);
            int p = _personOfRow[r];
            if (dot > best[p]) best[p] = dot;
        }
        var people = new List<(int Person, float Dot)>();
        for (int p = 0; p < PersonSlots; p++)
            if (!float.IsNegativeInfinity(best[p])) people.Add((p, best[p]));
        people.Sort(Order);
        if (people.Count > top) people.RemoveRange(top, people.Count - top);
        return people;
    }

    private static int Order((int Person, float Dot) a, (int Person, float Dot) b)
    {
        int c = b.Dot.CompareTo(a.Dot);
        return c != 0 ? c : a.Person.CompareTo(b.Person);
    }

    private void Rerank(List<int> rows, float[] query, Dictionary<int, float> exact, float[] buffer)
    {
        rows.Sort(); // file order: neighbouring rows share pages
        foreach (int r in rows) exact[r] = TensorPrimitives.Dot(_exact.Row(r, buffer), query);
    }

    /// <summary>The top-th best person's best exact score among the scored rows; -infinity with fewer people.</summary>
    private float TopThScore(Dictionary<int, float> exact, int top)
    {
        var best = BestByPerson(exact);
        if (best.Count < top) return float.NegativeInfinity;
        var values = best.Values.ToArray();
        Array.Sort(values);
        return values[^top];
    }

    private Dictionary<int, float> BestByPerson(Dictionary<int, float> exact)
    {
        var best = new Dictionary<int, float>();
        foreach (var (r, dot) in exact)
        {
            int p = _personOfRow[r];
            if (!best.TryGetValue(p, out float b) || dot > b) best[p] = dot;
        }
        return best;
    }

    private List<(int Person, float Dot)> Best(Dictionary<int, float> exact, int top)
    {
        var people = BestByPerson(exact).Select(kv => (kv.Key, kv.Value)).ToList();
        people.Sort(Order);
        if (people.Count > top) people.RemoveRange(top, people.Count - top);
        return people;
    }

    /// <summary>
    /// Scores every row with the int8 codes into <paramref name="approx"/> (all cores, a segment at a time) and
    /// returns the <see cref="Candidates"/> best rows and the lowest score kept.
    /// </summary>
    internal (List<int> Rows, float Cut) Scan(sbyte[] query, float queryScale, float[] approx)
    {
        int segments = (Rows + GalleryIndex.SegmentRows - 1) / GalleryIndex.SegmentRows;
        var merged = new TopRows(Candidates);
        var gate = new object();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Threads) };
        bool vnni = AvxVnni.IsSupported && !ForceScalar;
        if (segments == 1 || Threads <= 1)
        {
            for (int s = 0; s < segments; s++) ScanSegment(s, query, queryScale, approx, merged, vnni);
        }
        else
        {
            Parallel.For(0, segments, options, () => new TopRows(Candidates),
                (s, _, local) => { ScanSegment(s, query, queryScale, approx, local, vnni); return local; },
                local => { lock (gate) merged.Merge(local); });
        }
        return (merged.ToRows(), merged.Cut);
    }

    private void ScanSegment(int segment, sbyte[] query, float queryScale, float[] approx, TopRows top, bool vnni)
    {
        int first = segment * GalleryIndex.SegmentRows;
        int rows = Math.Min(GalleryIndex.SegmentRows, Rows - first);
        int blocks = (rows + GalleryIndex.BlockRows - 1) / GalleryIndex.BlockRows;
        var scores = approx.AsSpan(first, blocks * GalleryIndex.BlockRows);
        if (vnni) Int8Codes.ScanVnni(_codes[segment], _scales[segment], blocks, PaddedDimensions, query, queryScale, scores);
        else Int8Codes.ScanScalar(_codes[segment], _scales[segment], blocks, PaddedDimensions, query, queryScale, scores);
        int i = 0;
        for (; i + 8 <= rows; i += 8)
        {
            // Most blocks hold no row above the cut: one compare of 8 scores skips them.
            uint above = Vector256.GreaterThan(Vector256.Create(scores.Slice(i, 8)), Vector256.Create(top.Cut)).ExtractMostSignificantBits();
            for (; above != 0; above &= above - 1)
            {
                int k = i + System.Numerics.BitOperations.TrailingZeroCount(above);
                if (scores[k] > top.Cut) top.Add(scores[k], first + k);
            }
        }
        for (; i < rows; i++)
            if (scores[i] > top.Cut) top.Add(scores[i], first + i);
    }

    /// <summary>The best rows by approximate score: a min-heap of fixed capacity.</summary>
    private sealed class TopRows(int capacity)
    {
        private readonly float[] _score = new float[Math.Max(1, capacity)];
        private readonly int[] _row = new int[Math.Max(1, capacity)];
        private int _count;

        /// <summary>A row must score above this to be kept (the weakest kept once full; -infinity before).</summary>
        public float Cut { get; private set; } = float.NegativeInfinity;

        public void Add(float score, int row)
        {
            if (_count < _score.Length)
            {
                int i = _count++;
                _score[i] = score;
                _row[i] = row;
                while (i > 0 && _score[(i - 1) / 2] > _score[i]) { Swap(i, (i - 1) / 2); i = (i - 1) / 2; }
                if (_count == _score.Length) Cut = _score[0];
                return;
            }
            _score[0] = score;
            _row[0] = row;
            int j = 0;
            while (true)
            {
                int l = 2 * j + 1, r = l + 1, m = j;
                if (l < _count && _score[l] < _score[m]) m = l;
                if (r < _count && _score[r] < _score[m]) m = r;
                if (m == j) break;
                Swap(j, m);
                j = m;
            }
            Cut = _score[0];
        }

        private void Swap(int a, int b)
        {
            (_score[a], _score[b]) = (_score[b], _score[a]);
            (_row[a], _row[b]) = (_row[b], _row[a]);
        }

        public void Merge(TopRows other)
        {
            for (int i = 0; i < other._count; i++)
                if (other._score[i] > Cut) Add(other._score[i], other._row[i]);
        }

        public List<int> ToRows() => [.. _row.AsSpan(0, _count)];
    }
}

/// <summary>
/// Int8 codes of vectors in the scan's block layout, and the scan. A vector x is stored as codes c = round(x / s),
/// s = max|x| / 127, so c is in [-127, 127], kept as the byte c + 128 (VNNI multiplies unsigned by signed bytes).
/// </summary>
/// <remarks>
/// Layout of a segment: blocks of 32 rows; within a block, for each group of 4 dimensions, 128 bytes: 4 runs of 8 rows
/// x 4 bytes. One AVX-VNNI instruction (vpdpbusd) adds a group's 4 products of 8 rows into 8 int32 lanes, so a block
/// is scored with 4 accumulators and no horizontal sums.
/// </remarks>
internal static class Int8Codes
{
    /// <summary>The stored byte of code 0 (codes are offset by 128 into unsigned bytes).</summary>
    public const byte Zero = 128;

    private const int Groups4 = 4; // dimensions per VNNI lane

    /// <summary>
    /// Writes the codes of <paramref name="x"/> at row <paramref name="rowInSegment"/>; returns the scale and the L2
    /// norm of the rounding error |x - s c| (what the search's error bound needs). A zero vector has scale 0.
    /// </summary>
    public static (float Scale, float Error) Quantize(ReadOnlySpan<float> x, byte[] segment, int rowInSegment, int paddedDims, float? globalScale = null)
    {
        if (!Vector256.IsHardwareAccelerated || paddedDims > MaxStackDims) return QuantizeScalar(x, segment, rowInSegment, paddedDims, globalScale);
        float scale = globalScale ?? TensorPrimitives.MaxMagnitude(x) / 127f;
        // Codes of the whole row first (8 elements per step), then 4 bytes per group into the block layout.
        Span<int> codes = stackalloc int[paddedDims];
        codes.Clear();
        var errorSq = Vector256<float>.Zero;
        int d = 0;
        if (scale != 0)
        {
            var s = Vector256.Create(scale);
            var lo = Vector256.Create(-127f);
            var hi = Vector256.Create(127f);
            ref float x0 = ref MemoryMarshal.GetReference(x);
            for (; d + 8 <= x.Length; d += 8)
            {
                var v = Vector256.LoadUnsafe(ref x0, (nuint)d);
                // Division and round-half-to-even, as the scalar path (MathF.Round): the same codes.
                var c = Vector256.Min(Vector256.Max(Vector256.Round(v / s), lo), hi);
                Vector256.ConvertToInt32(c).CopyTo(codes[d..]);
                // x - s c with one rounding (FMA), squared into 8 float sums.
                var e = Vector256.FusedMultiplyAdd(-s, c, v);
                errorSq = Vector256.FusedMultiplyAdd(e, e, errorSq);
            }
        }
        double error = 0;
        for (int i = 0; i < Vector256<float>.Count; i++) error += errorSq[i];
        for (; d < x.Length; d++)
        {
            int code = scale == 0 ? 0 : Math.Clamp((int)MathF.Round(x[d] / scale), -127, 127);
            codes[d] = code;
            double e = x[d] - (double)scale * code;
            error += e * e;
        }
        int block = rowInSegment / GalleryIndex.BlockRows, inBlock = rowInSegment % GalleryIndex.BlockRows;
        ref byte at = ref segment[block * GalleryIndex.BlockRows * paddedDims + inBlock / 8 * 32 + inBlock % 8 * 4];
        for (int g = 0; g < paddedDims / Groups4; g++)
        {
            int c = g * Groups4;
            uint packed = (uint)(byte)(codes[c] + 128) | (uint)(byte)(codes[c + 1] + 128) << 8 |
                          (uint)(byte)(codes[c + 2] + 128) << 16 | (uint)(byte)(codes[c + 3] + 128) << 24;
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, g * 128), BitConverter.IsLittleEndian ? packed : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(packed));
        }
        // Float sums of at most a few hundred squares: relative error under 1e-5 (n/8 + 8 roundings of 2^-24), bounded
        // from above by the factor.
        return (scale, (float)Math.Sqrt(error) * (1 + 1e-5f));
    }

    /// <summary>Rows longer than this are quantised by <see cref="QuantizeScalar"/> (the SIMD path keeps a row's codes on the stack).</summary>
    private const int MaxStackDims = 4096;

    /// <summary>
    /// <see cref="Quantize"/> one element at a time (the reference the tests compare the SIMD path with, and the path
    /// without 256-bit vectors).
    /// </summary>
    internal static (float Scale, float Error) QuantizeScalar(ReadOnlySpan<float> x, byte[] segment, int rowInSegment, int paddedDims, float? globalScale = null)
    {
        float scale = globalScale ?? TensorPrimitives.MaxMagnitude(x) / 127f;
        int block = rowInSegment / GalleryIndex.BlockRows, inBlock = rowInSegment % GalleryIndex.BlockRows;
        int blockBase = block * GalleryIndex.BlockRows * paddedDims;
        int run = inBlock / 8, lane = inBlock % 8;
        double errorSq = 0;
        for (int d = 0; d < x.Length; d++)
        {
            int code = scale == 0 ? 0 : Math.Clamp((int)MathF.Round(x[d] / scale), -127, 127);
            double e = x[d] - (double)scale * code;
            errorSq += e * e;
            segment[blockBase + (d / Groups4) * 128 + run * 32 + lane * 4 + d % Groups4] = (byte)(code + 128);
        }
        return (scale, (float)Math.Sqrt(errorSq) * (1 + 1e-6f));
    }

    /// <summary>
    /// The query's codes (signed, padded with zeros), its scale, the L2 norm of s c (<paramref name="norm"/>) and of its
    /// rounding error q - s c (<paramref name="error"/>).
    /// </summary>
    public static sbyte[] QuantizeQuery(ReadOnlySpan<float> q, int paddedDims, out float scale, out float norm, out float error)
    {
        float max = TensorPrimitives.MaxMagnitude(q);
        scale = max / 127f;
        var codes = new sbyte[paddedDims];
        double normSq = 0, errorSq = 0;
        for (int d = 0; d < q.Length; d++)
        {
            if (!float.IsFinite(q[d])) throw new ArgumentException("the query has a NaN or infinite element", nameof(q));
            int code = scale == 0 ? 0 : Math.Clamp((int)MathF.Round(q[d] / scale), -127, 127);
            codes[d] = (sbyte)code;
            double approx = (double)scale * code, e = q[d] - approx;
            normSq += approx * approx;
            errorSq += e * e;
        }
        norm = (float)Math.Sqrt(normSq) * (1 + 1e-6f);
        error = (float)Math.Sqrt(errorSq) * (1 + 1e-6f);
        return codes;
    }

    /// <summary>The offset the stored bytes add to every dot product: 128 times the sum of the query's codes.</summary>
    private static int Offset(sbyte[] query)
    {
        int sum = 0;
        foreach (var c in query) sum += c;
        return 128 * sum;
    }

    /// <summary>Approximate dot products of <paramref name="blocks"/> blocks with AVX-VNNI (256-bit vpdpbusd).</summary>
    public static void ScanVnni(byte[] codes, float[] scales, int blocks, int paddedDims, sbyte[] query, float queryScale, Span<float> scores)
    {
        int groups = paddedDims / Groups4;
        // The query's 4 codes of each group, broadcast to every lane.
        Span<int> q4 = stackalloc int[groups];
        MemoryMarshal.Cast<sbyte, int>(query.AsSpan()).CopyTo(q4);
        var offset = Vector256.Create(Offset(query));
        var qs = Vector256.Create(queryScale);
        ref byte c0 = ref MemoryMarshal.GetArrayDataReference(codes);
        ref float s0 = ref MemoryMarshal.GetArrayDataReference(scales);
        ref float out0 = ref MemoryMarshal.GetReference(scores);
        int blockBytes = GalleryIndex.BlockRows * paddedDims;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref c0, b * blockBytes);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int g = 0; g < groups; g++)
            {
                ref byte p = ref Unsafe.Add(ref block, g * 128);
                var qv = Vector256.Create(q4[g]).AsSByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.LoadUnsafe(ref p), qv);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.LoadUnsafe(ref p, 32), qv);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, Vector256.LoadUnsafe(ref p, 64), qv);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, Vector256.LoadUnsafe(ref p, 96), qv);
            }
            int row = b * GalleryIndex.BlockRows;
            Store(a0, offset, qs, ref s0, ref out0, row);
            Store(a1, offset, qs, ref s0, ref out0, row + 8);
            Store(a2, offset, qs, ref s0, ref out0, row + 16);
            Store(a3, offset, qs, ref s0, ref out0, row + 24);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<int> acc, Vector256<int> offset, Vector256<float> queryScale, ref float scales, ref float scores, int row)
    {
        var dots = Vector256.ConvertToSingle(acc - offset);
        (dots * Vector256.LoadUnsafe(ref scales, (nuint)row) * queryScale).StoreUnsafe(ref scores, (nuint)row);
    }

    /// <summary>The same sums as <see cref="ScanVnni"/>, one byte at a time (for CPUs without AVX-VNNI).</summary>
    public static void ScanScalar(byte[] codes, float[] scales, int blocks, int paddedDims, sbyte[] query, float queryScale, Span<float> scores)
    {
        int groups = paddedDims / Groups4;
        int offset = Offset(query);
        int blockBytes = GalleryIndex.BlockRows * paddedDims;
        Span<int> acc = stackalloc int[GalleryIndex.BlockRows];
        for (int b = 0; b < blocks; b++)
        {
            acc.Clear();
            int block = b * blockBytes;
            for (int g = 0; g < groups; g++)
                for (int i = 0; i < 128; i++)
                    acc[i / 4] += codes[block + g * 128 + i] * query[g * 4 + i % 4];
            for (int i = 0; i < GalleryIndex.BlockRows; i++)
            {
                int row = b * GalleryIndex.BlockRows + i;
                scores[row] = (float)(acc[i] - offset) * scales[row] * queryScale;
            }
        }
    }
}

/// <summary>The float32 vectors of an index's rows, for exact re-ranking: in memory, or in a temporary file.</summary>
internal abstract class ExactVectors : IDisposable
{
    /// <summary>Bytes held in the process's memory.</summary>
    public abstract long ResidentBytes { get; }

    public abstract void Append(int row, ReadOnlySpan<float> vector);

    /// <summary>Makes every appended row readable by <see cref="Row"/> (the index calls it when it hands out a view).</summary>
    public virtual void Flush() { }

    /// <summary>Row <paramref name="row"/>, either a span of the store's memory or read into <paramref name="buffer"/>.</summary>
    public abstract ReadOnlySpan<float> Row(int row, float[] buffer);

    public virtual void Dispose() { }
}

/// <summary>Float32 rows in segments of <see cref="GalleryIndex.SegmentRows"/> rows.</summary>
internal sealed class MemoryExactVectors(int dimensions) : ExactVectors
{
    private float[][] _segments = [];

    public int Dimensions { get; } = dimensions;

    public override long ResidentBytes => (long)_segments.Length * GalleryIndex.SegmentRows * Dimensions * sizeof(float);

    public override void Append(int row, ReadOnlySpan<float> vector)
    {
        int s = row / GalleryIndex.SegmentRows;
        if (s == _segments.Length)
        {
            Array.Resize(ref _segments, s + 1);
            _segments[s] = new float[GalleryIndex.SegmentRows * Dimensions];
        }
        vector.CopyTo(_segments[s].AsSpan(row % GalleryIndex.SegmentRows * Dimensions, Dimensions));
    }

    public override ReadOnlySpan<float> Row(int row, float[] buffer) =>
        _segments[row / GalleryIndex.SegmentRows].AsSpan(row % GalleryIndex.SegmentRows * Dimensions, Dimensions);
}

/// <summary>
/// Float32 rows in a temporary file, row-major in native byte order (the file is this process's own), written through a buffer of
/// <see cref="BufferRows"/> rows and read a row at a time (pread).
/// </summary>
internal sealed class FileExactVectors : ExactVectors
{
    private const int BufferRows = 4096;

    private readonly SafeFileHandle _file;
    private readonly int _dimensions;
    private readonly float[] _buffer;
    private int _bufferedFrom;
    private int _buffered;

    private FileExactVectors(SafeFileHandle file, int dimensions)
    {
        _file = file;
        _dimensions = dimensions;
        _buffer = new float[BufferRows * dimensions];
    }

    /// <summary>A new file in <paramref name="folder"/> holding <paramref name="rows"/> rows copied from <paramref name="memory"/>.</summary>
    public static FileExactVectors Create(string folder, MemoryExactVectors memory, int rows)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"facenetsharp-gallery-{Environment.ProcessId}-{Guid.NewGuid():N}.f32");
        bool windows = OperatingSystem.IsWindows();
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete,
            windows ? FileOptions.DeleteOnClose : FileOptions.None);
        // Unlinked at once where the OS allows it: the space comes back when the handle closes, even after a crash.
        if (!windows) File.Delete(path);
        var store = new FileExactVectors(handle, memory.Dimensions);
        var scratch = new float[memory.Dimensions];
        for (int r = 0; r < rows; r++) store.Append(r, memory.Row(r, scratch));
        return store;
    }

    public override long ResidentBytes => (long)_buffer.Length * sizeof(float);

    public override void Append(int row, ReadOnlySpan<float> vector)
    {
        if (_buffered == BufferRows) Flush();
        if (_buffered == 0) _bufferedFrom = row;
        vector.CopyTo(_buffer.AsSpan(_buffered * _dimensions, _dimensions));
        _buffered++;
    }

    public override void Flush()
    {
        if (_buffered == 0) return;
        var bytes = MemoryMarshal.AsBytes(_buffer.AsSpan(0, _buffered * _dimensions));
        RandomAccess.Write(_file, bytes, (long)_bufferedFrom * _dimensions * sizeof(float));
        _buffered = 0;
    }

    public override ReadOnlySpan<float> Row(int row, float[] buffer)
    {
        var bytes = MemoryMarshal.AsBytes(buffer.AsSpan(0, _dimensions));
        long at = (long)row * _dimensions * sizeof(float);
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(_file, bytes[read..], at + read);
            if (n == 0) throw new IOException($"the gallery's temporary vector file ends before row {row}");
            read += n;
        }
        return buffer.AsSpan(0, _dimensions);
    }

    public override void Dispose() => _file.Dispose();
}
