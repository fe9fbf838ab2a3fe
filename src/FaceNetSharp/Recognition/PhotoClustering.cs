using System.Text.Json;
using FaceNetSharp.Imaging;
using FaceNetSharp.IO;
using SkiaSharp;

namespace FaceNetSharp.Recognition;

/// <summary>The clustering algorithms of <see cref="PhotoClustering"/>.</summary>
public enum ClusterAlgorithm
{
    /// <summary><see cref="Clustering.ChineseWhispers"/> (facenet contributed/clustering.py, dlib).</summary>
    ChineseWhispers,
    /// <summary><see cref="Clustering.Dbscan"/> (facenet contributed/cluster.py, scikit-learn).</summary>
    Dbscan,
}

/// <summary>How <see cref="PhotoClustering.Cluster"/> groups faces.</summary>
public sealed record PhotoClusteringOptions
{
    /// <summary>The algorithm.</summary>
    public ClusterAlgorithm Algorithm { get; init; } = ClusterAlgorithm.ChineseWhispers;

    /// <summary>
    /// The distance that joins two faces (Chinese whispers: below it; DBSCAN: eps, at most it), in
    /// <see cref="Metric"/>'s units. The embedder's same-person threshold is the natural choice.
    /// </summary>
    public required float Threshold { get; init; }

    /// <summary>The metric of <see cref="Threshold"/>.</summary>
    public required EmbeddingMetric Metric { get; init; }

    /// <summary>
    /// Clusters with fewer faces become noise. For DBSCAN it is also <c>min_samples</c>, as facenet's
    /// contributed/cluster.py passes its <c>--min_cluster_size</c> (default 1) to DBSCAN.
    /// </summary>
    public int MinClusterSize { get; init; } = 1;

    /// <summary>Seeds Chinese whispers' visiting order.</summary>
    public int Seed { get; init; }
}

/// <summary>One face of a clustered photo collection.</summary>
/// <param name="File">The image file.</param>
/// <param name="Face">The face (its chip, box and embedding).</param>
/// <param name="Cluster">The cluster, or <see cref="Clustering.Noise"/>.</param>
public sealed record ClusteredFace(string File, PhotoFace Face, int Cluster);

/// <summary>What <see cref="PhotoClustering.WriteOutput"/> wrote.</summary>
/// <param name="ClusterCount">Clusters (noise not counted).</param>
/// <param name="NoiseCount">Faces in no cluster.</param>
/// <param name="JsonPath">The clusters.json file.</param>
public sealed record ClusterOutputSummary(int ClusterCount, int NoiseCount, string JsonPath);

/// <summary>
/// Clusters every face of a set of photos by identity and writes the result as folders: one folder per cluster with
/// the aligned face chips (PNG), a contact sheet per cluster (a PNG grid of its chips) and clusters.json.
/// </summary>
public static class PhotoClustering
{
    /// <summary>Cluster folders are <c>cluster_000</c>, <c>cluster_001</c>, ...; faces in no cluster go to <c>noise</c>.</summary>
    public const string NoiseFolder = "noise";

    /// <summary>Chips per contact sheet at most, so a huge cluster still gives a viewable image; clusters.json lists every face.</summary>
    public const int MaxChipsPerSheet = 100;

    /// <summary>Columns of a contact sheet at most (rows grow as needed).</summary>
    private const int MaxSheetColumns = 10;

    /// <summary>Grey gap between chips on a contact sheet, in pixels.</summary>
    private const int SheetGap = 4;

    /// <summary>Clusters the faces of <paramref name="photos"/> (every embedded face of every file).</summary>
    public static IReadOnlyList<ClusteredFace> Cluster(IReadOnlyList<PhotoFaces> photos, PhotoClusteringOptions options)
    {
        ArgumentNullException.ThrowIfNull(photos);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MinClusterSize);
        var faces = photos.SelectMany(p => p.Faces.Select(f => (p.Path, Face: f))).ToList();
        var vectors = faces.Select(f => f.Face.Vector).ToList();
        int[] labels = options.Algorithm switch
        {
            ClusterAlgorithm.ChineseWhispers => Clustering.ChineseWhispers(vectors, options.Threshold, options.Metric, seed: options.Seed),
            ClusterAlgorithm.Dbscan => Clustering.Dbscan(vectors, options.Threshold, options.MinClusterSize, options.Metric),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Algorithm, "unknown algorithm"),
        };
        if (options.MinClusterSize > 1) labels = Clustering.MarkSmallClustersAsNoise(labels, options.MinClusterSize);
        return faces.Select((f, i) => new ClusteredFace(f.Path, f.Face, labels[i])).ToList();
    }

    /// <summary>The folder name of a cluster id (<see cref="NoiseFolder"/> for noise).</summary>
    public static string FolderName(int cluster) => cluster == Clustering.Noise ? NoiseFolder : $"cluster_{cluster:D3}";

    /// <summary>
    /// Writes <paramref name="faces"/> under <paramref name="outputDir"/>: <c>cluster_NNN/</c> holding each face's chip
    /// as <c>RELATIVE_PATH_FACE.png</c> (the source path under <paramref name="inputRoot"/> with separators as '_',
    /// then the face index), <c>cluster_NNN.png</c> (the contact sheet), the same for <c>noise</c>, and
    /// <c>clusters.json</c>: the options, every cluster with its faces (file, face index, box x1,y1,x2,y2 in the
    /// photo's pixels, detector score, chip), and the files with no face or that failed.
    /// </summary>
    public static ClusterOutputSummary WriteOutput(string outputDir, string inputRoot, IReadOnlyList<ClusteredFace> faces,
        IReadOnlyList<PhotoFaces> photos, PhotoClusteringOptions options, string modelId)
    {
        ArgumentNullException.ThrowIfNull(faces);
        Directory.CreateDirectory(outputDir);
        var chipNames = new Dictionary<ClusteredFace, string>(ReferenceEqualityComparer.Instance);
        var groups = faces.GroupBy(f => f.Cluster).OrderBy(g => g.Key == Clustering.Noise ? int.MaxValue : g.Key).ToList();
        foreach (var group in groups)
        {
            var folder = Path.Combine(outputDir, FolderName(group.Key));
            Directory.CreateDirectory(folder);
            foreach (var f in group)
            {
                var rel = Path.GetRelativePath(inputRoot, f.File);
                var stem = Path.ChangeExtension(rel, null).Replace(Path.DirectorySeparatorChar, '_').Replace(Path.AltDirectorySeparatorChar, '_');
                var name = $"{stem}_{f.Face.Index}.png";
                ImageWriter.Save(f.Face.Chip, Path.Combine(folder, name));
                chipNames[f] = Path.Combine(FolderName(group.Key), name);
            }
            WriteContactSheet(group.Select(f => f.Face.Chip).ToList(), Path.Combine(outputDir, FolderName(group.Key) + ".png"));
        }

        var jsonPath = Path.Combine(outputDir, "clusters.json");
        AtomicFile.Write(jsonPath, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("model", modelId);
            w.WriteString("algorithm", options.Algorithm == ClusterAlgorithm.Dbscan ? "dbscan" : "chinese-whispers");
            w.WriteString("metric", EmbeddingMetrics.Name(options.Metric));
            w.WriteNumber("threshold", options.Threshold);
            w.WriteNumber("minClusterSize", options.MinClusterSize);
            w.WriteNumber("clusterCount", groups.Count(g => g.Key != Clustering.Noise));
            w.WriteStartArray("clusters");
            foreach (var group in groups)
            {
                w.WriteStartObject();
                w.WriteNumber("id", group.Key);
                w.WriteString("folder", FolderName(group.Key));
                w.WriteString("contactSheet", FolderName(group.Key) + ".png");
                w.WriteNumber("size", group.Count());
                w.WriteStartArray("faces");
                foreach (var f in group)
                {
                    w.WriteStartObject();
                    w.WriteString("file", f.File);
                    w.WriteNumber("face", f.Face.Index);
                    if (f.Face.Face is { } d)
                    {
                        w.WriteStartArray("box");
                        w.WriteNumberValue(d.Box.X1); w.WriteNumberValue(d.Box.Y1); w.WriteNumberValue(d.Box.X2); w.WriteNumberValue(d.Box.Y2);
                        w.WriteEndArray();
                        w.WriteNumber("score", d.Score);
                    }
                    w.WriteString("chip", chipNames[f]);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("noFace");
            foreach (var p in photos.Where(p => p.Outcome == PhotoOutcome.NoFace)) w.WriteStringValue(p.Path);
            w.WriteEndArray();
            w.WriteStartArray("failed");
            foreach (var p in photos.Where(p => p.Outcome == PhotoOutcome.Failed))
            {
                w.WriteStartObject();
                w.WriteString("file", p.Path);
                w.WriteString("error", p.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        return new ClusterOutputSummary(groups.Count(g => g.Key != Clustering.Noise), faces.Count(f => f.Cluster == Clustering.Noise), jsonPath);
    }

    /// <summary>
    /// Draws up to <see cref="MaxChipsPerSheet"/> chips in a grid (at most 10 columns, about square) on grey with a
    /// 4-pixel gap, each scaled into a cell the size of the largest chip, and saves it as PNG.
    /// </summary>
    public static void WriteContactSheet(IReadOnlyList<RgbImage> chips, string pngPath)
    {
        ArgumentNullException.ThrowIfNull(chips);
        if (chips.Count == 0) throw new ArgumentException("a contact sheet needs at least one chip", nameof(chips));
        var shown = chips.Take(MaxChipsPerSheet).ToList();
        int cell = shown.Max(c => Math.Max(c.Width, c.Height));
        int columns = Math.Min(MaxSheetColumns, (int)Math.Ceiling(Math.Sqrt(shown.Count)));
        int rows = (shown.Count + columns - 1) / columns;
        int width = columns * cell + (columns + 1) * SheetGap;
        int height = rows * cell + (rows + 1) * SheetGap;
        using var sheet = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(sheet))
        {
            canvas.Clear(new SKColor(64, 64, 64));
            using var paint = new SKPaint();
            for (int i = 0; i < shown.Count; i++)
            {
                using var bitmap = SkiaPixels.ToBitmap(shown[i]);
                using var image = SKImage.FromBitmap(bitmap);
                float x = SheetGap + (i % columns) * (cell + SheetGap);
                float y = SheetGap + (i / columns) * (cell + SheetGap);
                canvas.DrawImage(image, new SKRect(x, y, x + cell, y + cell), new SKSamplingOptions(SKFilterMode.Linear), paint);
            }
        }
        // The project's PNG writer, as for every PNG here (ImageWriter.EncodePngRgb: Skia's encoder measured 3.4x slower).
        AtomicFile.Write(pngPath, ImageWriter.Encode(SkiaPixels.FromBitmap(sheet), ImageFileFormat.Png));
    }
}
