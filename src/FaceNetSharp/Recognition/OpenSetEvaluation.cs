using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>How <see cref="OpenSetEvaluation.Run"/> draws galleries from a labelled set.</summary>
public sealed record OpenSetOptions
{
    /// <summary>Faces enrolled per person; people with fewer faces can only be strangers.</summary>
    public int Enrol { get; init; } = 5;

    /// <summary>The share of the people who could be enrolled that are held out as strangers in each draw, in [0, 1).</summary>
    public double HoldOut { get; init; } = 0.5;

    /// <summary>Random draws (which people are strangers, which faces are enrolled).</summary>
    public int Draws { get; init; } = 5;

    /// <summary>Seed of the draws: the same seed and data give the same draws.</summary>
    public int Seed { get; init; } = 666;
}

/// <summary>One identification search: a probe face against a drawn gallery.</summary>
/// <param name="Mated">True when the probe's person is enrolled.</param>
/// <param name="Distance">The distance to the nearest enrolled person (their closest face).</param>
/// <param name="RankOneCorrect">For a mated search: the nearest person is the probe's own.</param>
public readonly record struct OpenSetSearch(bool Mated, float Distance, bool RankOneCorrect);

/// <summary>One drawn gallery and its searches.</summary>
/// <param name="EnrolledPeople">People enrolled.</param>
/// <param name="EnrolledFaces">Faces enrolled (the comparisons each search makes).</param>
/// <param name="Strangers">People held out: all their faces are non-mated searches.</param>
/// <param name="Searches">Every search of the draw.</param>
public sealed record OpenSetDraw(int EnrolledPeople, int EnrolledFaces, int Strangers, IReadOnlyList<OpenSetSearch> Searches);

/// <summary>
/// Open-set identification rates at a threshold, pooled over draws (ISO/IEC 19795-1 terms): FPIR, strangers named
/// as someone; FNIR, enrolled people not named correctly (missed or named as someone else); DIR = 1 - FNIR.
/// </summary>
public sealed record OpenSetRates(float Threshold, int MatedSearches, int NonMatedSearches, int FalsePositives, int Misses, int WrongNames)
{
    /// <summary>False-positive identification rate: non-mated searches answered with a name / non-mated searches (NaN when none).</summary>
    public double Fpir => NonMatedSearches == 0 ? double.NaN : (double)FalsePositives / NonMatedSearches;

    /// <summary>False-negative identification rate: mated searches not answered with the right name / mated searches (NaN when none).</summary>
    public double Fnir => MatedSearches == 0 ? double.NaN : (double)Misses / MatedSearches;

    /// <summary>Detection and identification rate at rank 1: 1 - <see cref="Fnir"/>.</summary>
    public double Dir => 1 - Fnir;
}

/// <summary>
/// Measures open-set identification on a labelled set of embeddings, as a user's own gallery would face it: in each
/// draw, some people are held out as strangers, the others have <see cref="OpenSetOptions.Enrol"/> faces enrolled,
/// and every other face is searched (nearest enrolled person by their closest face, as <see cref="FaceGallery.Identify"/>).
/// </summary>
public static class OpenSetEvaluation
{
    /// <summary>Draws the galleries and runs every search.</summary>
    /// <param name="faces">Labelled embeddings (normalised here), any order.</param>
    /// <param name="metric">The model's metric.</param>
    /// <param name="options">The draws.</param>
    public static IReadOnlyList<OpenSetDraw> Run(IReadOnlyList<(string Person, float[] Vector)> faces, EmbeddingMetric metric, OpenSetOptions options)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Enrol < 1) throw new ArgumentException("--enrol must be at least 1");
        if (options.HoldOut is < 0 or >= 1 || double.IsNaN(options.HoldOut)) throw new ArgumentException("--hold-out must be in [0, 1)");
        if (options.Draws < 1) throw new ArgumentException("--draws must be at least 1");
        if (faces.Count == 0) throw new ArgumentException("no faces to evaluate: every image failed or had no face");
        int dims = faces[0].Vector.Length;
        var people = faces.GroupBy(f => f.Person, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Select(f => VectorMath.Normalized(f.Vector, dims, $"a face of {g.Key}")).ToArray()).ToList();
        var enrollable = Enumerable.Range(0, people.Count).Where(i => people[i].Length >= options.Enrol).ToArray();
        var neverEnrolled = Enumerable.Range(0, people.Count).Where(i => people[i].Length < options.Enrol).ToArray();
        if (enrollable.Length == 0)
            throw new ArgumentException($"no person has {options.Enrol} faces to enrol (--enrol); the most any person has is {people.Max(p => p.Length)}");
        // At least one person enrolled; with a hold-out, at least one stranger where there are two people to split.
        int held = (int)Math.Round(options.HoldOut * enrollable.Length, MidpointRounding.AwayFromZero);
        if (options.HoldOut > 0 && neverEnrolled.Length == 0) held = Math.Max(held, 1);
        held = Math.Min(held, enrollable.Length - 1);

        var random = new Random(options.Seed);
        var draws = new List<OpenSetDraw>(options.Draws);
        for (int d = 0; d < options.Draws; d++)
        {
            var order = enrollable.ToArray();
            random.Shuffle(order);
            var strangers = order.Take(held).Concat(neverEnrolled).ToList();
            var enrolled = order.Skip(held).ToList();
            var gallery = new List<float[]>();
            var personOfRow = new List<int>();
            var probes = new List<(float[] Vector, int Person)>();   // Person: index into enrolled, -1 for a stranger
            for (int e = 0; e < enrolled.Count; e++)
            {
                var own = people[enrolled[e]].ToArray();
                random.Shuffle(own);
                for (int i = 0; i < own.Length; i++)
                {
                    if (i < options.Enrol) { gallery.Add(own[i]); personOfRow.Add(e); }
                    else probes.Add((own[i], e));
                }
            }
            foreach (var s in strangers)
                foreach (var v in people[s]) probes.Add((v, -1));

            var best = new float[enrolled.Count];
            var searches = new OpenSetSearch[probes.Count];
            for (int p = 0; p < probes.Count; p++)
            {
                Array.Fill(best, float.NegativeInfinity);
                for (int r = 0; r < gallery.Count; r++)
                    best[personOfRow[r]] = Math.Max(best[personOfRow[r]], TensorPrimitives.Dot(gallery[r], probes[p].Vector));
                int nearest = TensorPrimitives.IndexOfMax(best);
                var (_, person) = probes[p];
                searches[p] = new OpenSetSearch(person >= 0, VectorMath.DistanceFromDot(best[nearest], metric), person == nearest);
            }
            draws.Add(new OpenSetDraw(enrolled.Count, gallery.Count, strangers.Count, searches));
        }
        return draws;
    }

    /// <summary>The rates of every draw at one threshold, pooled.</summary>
    public static OpenSetRates At(IEnumerable<OpenSetDraw> draws, float threshold) => At(draws, _ => threshold, threshold);

    /// <summary>
    /// The rates pooled over draws, each draw at its own threshold (e.g. one derived from its gallery size);
    /// <paramref name="label"/> is the threshold reported.
    /// </summary>
    public static OpenSetRates At(IEnumerable<OpenSetDraw> draws, Func<OpenSetDraw, float> thresholdOf, float label)
    {
        ArgumentNullException.ThrowIfNull(draws);
        int mated = 0, nonMated = 0, falsePositives = 0, misses = 0, wrongNames = 0;
        foreach (var draw in draws)
        {
            float t = thresholdOf(draw);
            foreach (var s in draw.Searches)
            {
                bool named = s.Distance < t;
                if (s.Mated)
                {
                    mated++;
                    if (!(named && s.RankOneCorrect)) misses++;
                    if (named && !s.RankOneCorrect) wrongNames++;
                }
                else
                {
                    nonMated++;
                    if (named) falsePositives++;
                }
            }
        }
        return new OpenSetRates(label, mated, nonMated, falsePositives, misses, wrongNames);
    }

    /// <summary>
    /// The largest threshold, rounded down to three decimals, at which at most <paramref name="targetFpir"/> of the
    /// non-mated searches of all draws are named: the fewest missed enrolled people the target allows on this data.
    /// Null when there are no non-mated searches.
    /// </summary>
    public static float? Suggest(IEnumerable<OpenSetDraw> draws, double targetFpir)
    {
        ArgumentNullException.ThrowIfNull(draws);
        var d = draws.SelectMany(x => x.Searches).Where(s => !s.Mated).Select(s => s.Distance).Order().ToArray();
        if (d.Length == 0) return null;
        int allowed = (int)Math.Floor(targetFpir * d.Length);
        // Accepting distances below d[allowed] names at most `allowed` strangers; all of them when allowed reaches the end.
        float limit = allowed < d.Length ? d[allowed] : MathF.BitIncrement(d[^1]);
        return MathF.Floor(limit * 1000) / 1000;
    }
}
