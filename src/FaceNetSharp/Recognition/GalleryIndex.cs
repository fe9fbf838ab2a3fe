using System.Buffers;
using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>
/// The in-memory side of a gallery: every face vector in one contiguous row-major <c>float[rows * dims]</c>
/// (unit vectors), the person each row belongs to, and the people's names. Rows and people are only appended;
/// a change other than an append is a rebuild (<see cref="Clear"/>, then appends).
/// </summary>
/// <remarks>
/// Not thread-safe for writing: one writer at a time (the gallery holds its lock). Readers search a
/// <see cref="GalleryIndexView"/> taken with <see cref="View"/>; a view never sees later appends, because appends
/// only write past the view's row and person counts, and a grown array is a new array.
/// </remarks>
internal sealed class GalleryIndex
{
    private float[] _data = [];
    private int[] _personOfRow = [];
    private string[] _names = [];
    private readonly Dictionary<long, int> _personIndexByKey = [];

    public GalleryIndex(int dimensions)
    {
        if (dimensions <= 0) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "must be positive");
        Dimensions = dimensions;
    }

    public int Dimensions { get; }
    public int Rows { get; private set; }
    public int People { get; private set; }

    /// <summary>The highest face id appended so far (SQLite's <c>faces.id</c>), 0 when empty.</summary>
    public long MaxFaceId { get; private set; }

    public void Clear()
    {
        // New arrays rather than reuse, so that views taken before the clear stay valid.
        _data = [];
        _personOfRow = [];
        _names = [];
        _personIndexByKey.Clear();
        Rows = 0;
        People = 0;
        MaxFaceId = 0;
        Skipped = 0;
    }

    /// <summary>
    /// Makes room for <paramref name="rows"/> rows in all, so that loading a known number of faces allocates the
    /// matrix once instead of growing it by doubling (which briefly holds old and new arrays: 1.5x the memory).
    /// </summary>
    public void EnsureCapacity(int rows)
    {
        if (rows <= _personOfRow.Length) return;
        Grow(rows);
    }

    private void Grow(int capacity)
    {
        var data = new float[(long)capacity * Dimensions];
        _data.AsSpan(0, Rows * Dimensions).CopyTo(data);
        _data = data;
        Array.Resize(ref _personOfRow, capacity);
    }

    /// <summary>Appends one face; <paramref name="unitVector"/> must already be L2-normalised.</summary>
    /// <param name="faceId">The face's id, increasing from call to call.</param>
    /// <param name="personKey">A stable key of the person (SQLite's <c>people.id</c>).</param>
    /// <param name="personName">The person's name, read only when the key is new.</param>
    /// <param name="unitVector">The vector, <see cref="Dimensions"/> long.</param>
    public void Append(long faceId, long personKey, string personName, ReadOnlySpan<float> unitVector)
    {
        if (!_personIndexByKey.TryGetValue(personKey, out int person))
        {
            person = People;
            if (person == _names.Length) Array.Resize(ref _names, Math.Max(16, _names.Length * 2));
            _names[person] = personName;
            _personIndexByKey.Add(personKey, person);
            People++;
        }
        if (Rows == _personOfRow.Length) Grow(Math.Max(64, _personOfRow.Length * 2));
        unitVector.CopyTo(_data.AsSpan(Rows * Dimensions, Dimensions));
        _personOfRow[Rows] = person;
        Rows++;
        MaxFaceId = faceId;
    }

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
    public GalleryIndexView View() => new(_data, _personOfRow, _names, Rows, People, Dimensions);
}

/// <summary>A frozen view of a <see cref="GalleryIndex"/>; searches are thread-safe.</summary>
internal sealed class GalleryIndexView
{
    /// <summary>
    /// Below this many rows one thread scores the whole matrix; above it the rows are split over the cores. At 192
    /// dimensions 32k rows are 24 MiB and take a few milliseconds, where a parallel loop's start-up (tens of µs)
    /// no longer matters (measured with GalleryBenchmark on 2 cores).
    /// </summary>
    private const int ParallelRowThreshold = 32_768;

    private readonly float[] _data;
    private readonly int[] _personOfRow;
    private readonly string[] _names;

    public GalleryIndexView(float[] data, int[] personOfRow, string[] names, int rows, int people, int dimensions)
    {
        _data = data;
        _personOfRow = personOfRow;
        _names = names;
        Rows = rows;
        People = people;
        Dimensions = dimensions;
    }

    public int Rows { get; }
    public int People { get; }
    public int Dimensions { get; }

    public string PersonName(int person) => _names[person];

    /// <summary>
    /// Dot products of a unit query with every row into <paramref name="scores"/> (at least <see cref="Rows"/> long),
    /// with SIMD (TensorPrimitives.Dot per row) and, for large matrices, all cores.
    /// </summary>
    public void Dots(float[] query, float[] scores)
    {
        if (Rows < ParallelRowThreshold)
        {
            DotRange(query, scores, 0, Rows);
            return;
        }
        int chunks = Math.Max(1, Environment.ProcessorCount) * 4;
        int perChunk = (Rows + chunks - 1) / chunks;
        Parallel.For(0, chunks, c =>
        {
            int start = c * perChunk;
            int end = Math.Min(Rows, start + perChunk);
            if (start < end) DotRange(query, scores, start, end);
        });
    }

    private void DotRange(float[] query, float[] scores, int start, int end)
    {
        int d = Dimensions;
        ReadOnlySpan<float> q = query;
        ReadOnlySpan<float> data = _data;
        for (int r = start; r < end; r++)
            scores[r] = TensorPrimitives.Dot(data.Slice(r * d, d), q);
    }

    /// <summary>
    /// The <paramref name="top"/> people whose best face has the highest dot product with the unit query, best
    /// first, as (person index, best dot product).
    /// </summary>
    public List<(int Person, float Dot)> TopPeople(float[] query, int top)
    {
        var result = new List<(int Person, float Dot)>(Math.Min(top, People));
        if (Rows == 0) return result;
        // Pooled: at 1M rows these are 4 MiB each, which would otherwise be a large-object allocation per query.
        var scores = ArrayPool<float>.Shared.Rent(Rows);
        var best = ArrayPool<float>.Shared.Rent(People);
        try
        {
            Dots(query, scores);
            Array.Fill(best, float.NegativeInfinity, 0, People);
            for (int r = 0; r < Rows; r++)
            {
                int p = _personOfRow[r];
                if (scores[r] > best[p]) best[p] = scores[r];
            }
            SelectTop(best, top, result);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
            ArrayPool<float>.Shared.Return(best);
        }
        return result;
    }

    private void SelectTop(float[] best, int top, List<(int Person, float Dot)> result)
    {

        // A min-heap of the best `top` people so far: its root is the weakest kept, replaced by anyone better.
        var heap = new PriorityQueue<int, float>(Math.Min(top, People) + 1);
        for (int p = 0; p < People; p++)
        {
            if (float.IsNegativeInfinity(best[p])) continue; // a person with no face rows
            if (heap.Count < top) heap.Enqueue(p, best[p]);
            else if (heap.TryPeek(out _, out float weakest) && best[p] > weakest) heap.EnqueueDequeue(p, best[p]);
        }
        while (heap.TryDequeue(out int p, out float dot)) result.Add((p, dot));
        result.Reverse();
    }
}
