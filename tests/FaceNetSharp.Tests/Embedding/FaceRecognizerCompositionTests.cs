using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Embedding;

/// <summary>
/// <see cref="FaceRecognizer"/> composed from detectors and embedders built by the caller (the installed models,
/// opened from their files), including ones the caller wrote against <see cref="IFaceDetector"/> and
/// <see cref="IFaceEmbedder"/>; real photos throughout.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class FaceRecognizerCompositionTests(InstalledModelsFixture models)
{
    private static string Hopkins(int i) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{i}.jpg");
    private static string Biden => TestPaths.Shared("faces", "face_recognition-examples", "examples", "biden.jpg");

    [SkippableFact]
    public void A_recognizer_composed_from_the_model_files_gives_the_vectors_of_the_one_opened_by_name()
    {
        var store = models.Require();
        var photo = ImageLoader.Load(Hopkins(1));
        var detector = new MtcnnDetector(store.PathOf(ModelNames.MtcnnPNet), store.PathOf(ModelNames.MtcnnRNet), store.PathOf(ModelNames.MtcnnONet));
        var embedder = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), Embedders.MobileFaceNet);
        using var composed = new FaceRecognizer(detector, embedder);
        using var opened = FaceRecognizer.Open("mobilefacenet", store.Directory);

        var a = composed.EmbedLargestFace(photo)!;
        var b = opened.EmbedLargestFace(photo)!;
        Assert.Equal(b.Face.Box, a.Face.Box);
        Assert.Equal(b.Vector, a.Vector);
        Assert.Same(detector, composed.Detector);
        Assert.Same(embedder, composed.Embedder);
        Assert.Equal(Embedders.MobileFaceNet.Threshold, composed.Model.Threshold);
    }

    [SkippableFact]
    public void A_callers_own_detector_and_embedder_run_the_whole_pipeline_and_are_disposed_with_it()
    {
        var store = models.Require();
        using var mtcnn = MtcnnDetector.FromStore(store);
        using var onnx = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), Embedders.MobileFaceNet);
        var detector = new LargestOnlyDetector(mtcnn);
        var embedder = new CountingEmbedder(onnx);

        using (var faces = new FaceRecognizer(detector, embedder))
        {
            var h1 = faces.EmbedLargestFace(ImageLoader.Load(Hopkins(1)))!;
            var h2 = faces.EmbedLargestFace(ImageLoader.Load(Hopkins(2)))!;
            var biden = faces.EmbedLargestFace(ImageLoader.Load(Biden))!;
            Assert.True(faces.IsSamePerson(h1.Vector, h2.Vector));
            Assert.False(faces.IsSamePerson(h1.Vector, biden.Vector));
            Assert.Equal(3, embedder.Chips);                // the recognizer aligned and embedded through the caller's embedder
            Assert.Equal(3, detector.Calls);
            // Chips the caller's embedder saw are the size its Info asks for.
            Assert.Equal(Embedders.MobileFaceNet.InputSize, embedder.LastChipSize);
        }
        Assert.True(embedder.Disposed);
        Assert.True(detector.Disposed);
    }

    [SkippableFact]
    public void LeaveOpen_keeps_the_components_for_the_caller()
    {
        var store = models.Require();
        using var mtcnn = MtcnnDetector.FromStore(store);
        using var onnx = new OnnxFaceEmbedder(store.PathOf(ModelNames.MobileFaceNet), Embedders.MobileFaceNet);
        var embedder = new CountingEmbedder(onnx);
        using (var faces = new FaceRecognizer(mtcnn, embedder, leaveOpen: true))
            Assert.NotNull(faces.EmbedLargestFace(ImageLoader.Load(Hopkins(1))));
        Assert.False(embedder.Disposed);
        // Still usable: a second recognizer shares them.
        using var again = new FaceRecognizer(mtcnn, embedder, leaveOpen: true);
        Assert.NotNull(again.EmbedLargestFace(ImageLoader.Load(Hopkins(2))));
    }

    // README.md's composition example, with the model files' names replaced by the installed store's paths.
    private static FaceRecognizer ReadmeExample(string pnet, string rnet, string onet, string mobilefacenet)
    {
        var cpu = new InferenceOptions { IntraOpThreads = 2 };          // or ExecutionProvider = "cuda", DeviceId = 0
        var detector = new MtcnnDetector(pnet, rnet, onet, new MtcnnOptions { Inference = cpu });
        var embedder = new OnnxFaceEmbedder(mobilefacenet, Embedders.MobileFaceNet, new EmbedderOptions { Inference = cpu });
        var faces = new FaceRecognizer(detector, embedder);      // disposes both (leaveOpen: true keeps them)
        return faces;
    }

    [SkippableFact]
    public void The_readmes_composition_example_is_this_code_and_tells_same_from_different()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var start = readme.IndexOf("var cpu = new InferenceOptions", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no composition example");
        var documented = Lines(readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)]);
        var mine = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "FaceNetSharp.Tests", "Embedding", "FaceRecognizerCompositionTests.cs"));
        var body = mine[mine.IndexOf("var cpu = new InferenceOptions", StringComparison.Ordinal)..mine.IndexOf("return faces;", StringComparison.Ordinal)];
        body = body.Replace("pnet, rnet, onet,", "\"mtcnn-pnet.onnx\", \"mtcnn-rnet.onnx\", \"mtcnn-onet.onnx\",")
            .Replace("(mobilefacenet,", "(\"mobilefacenet.onnx\",").Replace("var faces =", "using var faces =");
        Assert.Equal(documented, Lines(body));

        var store = models.Require();
        using var faces = ReadmeExample(store.PathOf(ModelNames.MtcnnPNet), store.PathOf(ModelNames.MtcnnRNet),
            store.PathOf(ModelNames.MtcnnONet), store.PathOf(ModelNames.MobileFaceNet));
        var h1 = faces.EmbedLargestFace(ImageLoader.Load(Hopkins(1)))!.Vector;
        Assert.True(faces.IsSamePerson(h1, faces.EmbedLargestFace(ImageLoader.Load(Hopkins(2)))!.Vector));
        Assert.False(faces.IsSamePerson(h1, faces.EmbedLargestFace(ImageLoader.Load(Biden))!.Vector));
    }

    private static string[] Lines(string code) =>
        code.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0).ToArray();

    /// <summary>A detector of one's own: MTCNN's faces, only the largest kept.</summary>
    private sealed class LargestOnlyDetector(IFaceDetector inner) : IFaceDetector, IDisposable
    {
        public int Calls;
        public bool Disposed;

        public IReadOnlyList<DetectedFace> Detect(RgbImage image)
        {
            Calls++;
            var faces = inner.Detect(image);
            int i = FaceSelection.PickLargest(faces);
            return i < 0 ? [] : [faces[i]];
        }

        public void Dispose() => Disposed = true;
    }

    /// <summary>An embedder of one's own: delegates to the ONNX one and counts what it embeds.</summary>
    private sealed class CountingEmbedder(IFaceEmbedder inner) : IFaceEmbedder, IDisposable
    {
        public int Chips;
        public int LastChipSize;
        public bool Disposed;

        public EmbedderInfo Info => inner.Info;

        public float[][] Embed(IReadOnlyList<RgbImage> alignedFaces)
        {
            Chips += alignedFaces.Count;
            if (alignedFaces.Count > 0) LastChipSize = alignedFaces[^1].Width;
            return inner.Embed(alignedFaces);
        }

        public void Dispose() => Disposed = true;
    }
}
