using System.Numerics;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Video.Tracking;

/// <summary>
/// One face followed across frames by a <see cref="FaceTracker"/>: when it was seen, its name so far and its best
/// chips. Read it between calls to <see cref="FaceTracker.Update"/> (not thread-safe).
/// </summary>
public sealed class FaceTrack
{
    private double[]? _sum;
    private readonly List<TrackChip> _chips = [];
    // the frames it was detected in, ascending (4 bytes a detection): two tracks detected in one frame are two people
    private readonly List<int> _detectedFrames = [];

    internal FaceTrack(int frame, TimeSpan time, DetectedFace face)
    {
        FirstFrame = frame;
        FirstTime = time;
        Set(frame, time, face);
    }

    /// <summary>The track's id (1, 2, ... in order of confirmation), 0 while it is not confirmed.</summary>
    public int Id { get; internal set; }

    /// <summary>The first frame it was detected in.</summary>
    public int FirstFrame { get; }

    /// <summary>The first frame's time.</summary>
    public TimeSpan FirstTime { get; }

    /// <summary>The last frame it was detected in.</summary>
    public int LastFrame { get; private set; }

    /// <summary>The last frame's time.</summary>
    public TimeSpan LastTime { get; private set; }

    /// <summary>Frames it was detected in.</summary>
    public int FramesSeen { get; private set; }

    /// <summary>Whether this track and <paramref name="other"/> were both detected in some frame (so are two people).</summary>
    internal bool DetectedTogetherWith(FaceTrack other)
    {
        if (other.FirstFrame > LastFrame || FirstFrame > other.LastFrame) return false;
        var a = _detectedFrames;
        var b = other._detectedFrames;
        for (int i = 0, j = 0; i < a.Count && j < b.Count;)
        {
            if (a[i] == b[j]) return true;
            if (a[i] < b[j]) i++;
            else j++;
        }
        return false;
    }

    /// <summary>Embeddings it gathered.</summary>
    public int EmbeddingCount { get; private set; }

    /// <summary>Embedded detections that are evidence for grouping it with other unknown tracks (<see cref="FaceEvidence.IsEvidence"/>).</summary>
    internal int GroupingEvidence { get; set; }

    /// <summary>Its name against the gallery so far (null before it has enough embeddings, or without a gallery).</summary>
    public TrackName? Name { get; internal set; }

    /// <summary>
    /// Its best chips, best first (see <see cref="TrackChip"/> for the quality), at most
    /// <see cref="FaceTrackerOptions.BestChipCount"/>, from the detections that came with a chip.
    /// </summary>
    public IReadOnlyList<TrackChip> BestChips => _chips;

    /// <summary>The mean of its unit embeddings, normalised to unit length; null without embeddings. A fresh copy.</summary>
    public float[]? MeanEmbedding
    {
        get
        {
            if (_sum is null) return null;
            double norm = 0;
            foreach (var v in _sum) norm += v * v;
            norm = Math.Sqrt(norm);
            var mean = new float[_sum.Length];
            for (int i = 0; i < mean.Length; i++) mean[i] = (float)(norm > 0 ? _sum[i] / norm : 0);
            return mean;
        }
    }

    // --- motion state (frame pixels; velocity per frame) ---
    internal FaceBox Box { get; private set; }
    internal Vector2[] Landmarks { get; private set; } = [];
    internal float Score { get; private set; }
    internal Vector2 Velocity;
    internal int Hits;
    internal int Misses; // consecutive detection runs without a match
    internal int NamedAt; // EmbeddingCount when Name was last computed
    internal float[]? CachedMean;
    internal readonly Dictionary<string, VoteTally> Votes = new(StringComparer.Ordinal);

    internal static Vector2 Center(FaceBox b) => new((b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2);

    /// <summary>The box expected at <paramref name="frame"/>: the last box moved at the track's velocity (constant velocity).</summary>
    internal FaceBox Predict(int frame, int maxFrames)
    {
        float dt = Math.Min(frame - LastFrame, maxFrames);
        var d = Velocity * dt;
        return new FaceBox(Box.X1 + d.X, Box.Y1 + d.Y, Box.X2 + d.X, Box.Y2 + d.Y);
    }

    internal Vector2[] LandmarksAt(FaceBox predicted)
    {
        var d = Center(predicted) - Center(Box);
        var moved = new Vector2[Landmarks.Length];
        for (int i = 0; i < moved.Length; i++) moved[i] = Landmarks[i] + d;
        return moved;
    }

    /// <summary>The track's face in <paramref name="frame"/>; the velocity follows the box, or starts again at 0 when the
    /// face is in another shot than the track's last one (<paramref name="sameShot"/> false: a scene cut between).</summary>
    internal void Match(int frame, TimeSpan time, DetectedFace face, float smoothing, bool sameShot = true)
    {
        int dt = frame - LastFrame;
        if (!sameShot) Velocity = Vector2.Zero;
        else if (dt > 0)
        {
            var observed = (Center(face.Box) - Center(Box)) / dt;
            Velocity = Hits <= 1 ? observed : smoothing * observed + (1 - smoothing) * Velocity;
        }
        Set(frame, time, face);
    }

    private void Set(int frame, TimeSpan time, DetectedFace face)
    {
        Box = face.Box;
        Landmarks = face.Landmarks;
        Score = face.Score;
        LastFrame = frame;
        LastTime = time;
        FramesSeen++;
        _detectedFrames.Add(frame);
        Hits++;
        Misses = 0;
    }

    internal void AddEmbedding(float[] embedding)
    {
        _sum ??= new double[embedding.Length];
        if (embedding.Length != _sum.Length) throw new ArgumentException($"embedding of length {embedding.Length}; the track's are {_sum.Length}");
        for (int i = 0; i < _sum.Length; i++) _sum[i] += embedding[i];
        LastEmbedding = embedding;
        EmbeddingCount++;
        CachedMean = null;
    }

    internal float[]? Mean => CachedMean ??= MeanEmbedding;

    /// <summary>The sum of its unit embeddings (not a copy); null without embeddings.</summary>
    internal double[]? Sum => _sum;

    /// <summary>The embedding of its last embedded detection.</summary>
    internal float[]? LastEmbedding { get; private set; }

    internal void OfferChip(TrackChip chip, int keep)
    {
        if (keep == 0) return;
        int at = _chips.FindIndex(c => chip.Quality > c.Quality || (chip.Quality == c.Quality && chip.Sharpness > c.Sharpness));
        if (at < 0)
        {
            if (_chips.Count < keep) _chips.Add(chip);
            return;
        }
        _chips.Insert(at, chip);
        if (_chips.Count > keep) _chips.RemoveAt(_chips.Count - 1);
    }

    /// <summary>
    /// 1 when the nose lies midway between the eyes (along the eye line), 0 when it is half the eye distance or more
    /// off: the head turned to profile. 1 without landmarks.
    /// </summary>
    internal static float Frontality(Vector2[] landmarks)
    {
        if (landmarks.Length < 3) return 1;
        var (left, right, nose) = (landmarks[0], landmarks[1], landmarks[2]);
        var axis = right - left;
        float eyes = axis.Length();
        if (eyes <= 0) return 0;
        float offset = Math.Abs(Vector2.Dot(nose - (left + right) / 2, axis / eyes)) / eyes;
        return Math.Clamp(1 - 2 * offset, 0, 1);
    }

    /// <summary>The variance of the 4-neighbour Laplacian of the chip's grey levels (0..255): higher is sharper.</summary>
    internal static float Sharpness(RgbImage chip)
    {
        int w = chip.Width, h = chip.Height;
        if (w < 3 || h < 3) return 0;
        var p = chip.Pixels;
        var grey = new float[w * h];
        for (int i = 0; i < grey.Length; i++) grey[i] = 0.299f * p[3 * i] + 0.587f * p[3 * i + 1] + 0.114f * p[3 * i + 2];
        double sum = 0, sq = 0;
        int n = 0;
        for (int y = 1; y < h - 1; y++)
        {
            for (int x = 1; x < w - 1; x++)
            {
                int i = y * w + x;
                double l = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
                sum += l;
                sq += l * l;
                n++;
            }
        }
        double mean = sum / n;
        return (float)(sq / n - mean * mean);
    }
}

/// <summary>The per-frame answers of <see cref="TrackNaming.Vote"/> for one person.</summary>
internal sealed class VoteTally
{
    public int Known;
    public int Nearest;
    public double DistanceSum;
}
