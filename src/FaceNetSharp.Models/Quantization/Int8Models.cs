using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.IO;
using Onnx;

namespace FaceNetSharp.Models.Quantization;

/// <summary>
/// The int8 versions of the built-in embedders (<c>NAME-int8.onnx</c> beside <c>NAME.onnx</c>), made on this machine
/// from the installed float32 model: activation ranges calibrated on the faces of the pinned npm sample photos
/// (<see cref="SamplePhotos"/>: every machine that can install the models can fetch them), then the QDQ rewrite of
/// <see cref="OnnxQuantizer"/>. The card records the calibration, the float32 model it was made from, and the accuracy
/// loss measured by <c>FaceNetSharp.Bench int8</c>.
/// </summary>
internal static class Int8Models
{
    /// <summary>
    /// Written into the card; bump it when the quantization or the calibration changes so that int8 models are rebuilt
    /// (3: dlib's shortcuts as Convs, <see cref="ShortcutRewriter"/>; 4: MobileFaceNet's linear head in float32,
    /// <see cref="FloatHeadFor"/>; dlib's graph is version 3's).
    /// </summary>
    public const string QuantizerVersion = "4";

    /// <summary>
    /// Calibration method of each installed model, the more accurate one in <c>FaceNetSharp.Bench int8</c>
    /// (2026-11-30; <see cref="MeasuredLoss"/> holds the chosen one's figures): MobileFaceNet percentile (lowest cosine
    /// to float32 over 100 kz-celebs faces 0.866 against 0.709 with min/max; kz-celebs accuracy -0.64 pt against
    /// -1.56 pt), dlib min/max (kz-celebs +0.10 pt against -0.26 pt, ORL -0.17 pt against -0.31 pt).
    /// </summary>
    public static CalibrationMethod MethodFor(string baseModel) => CalibrationMethod.MinMax;

    /// <summary>
    /// Whether <paramref name="baseModel"/>'s Conv → PRelu → Conv chains are equalized before calibration
    /// (<see cref="ChannelEqualizer"/>): MobileFaceNet, whose per-tensor uint8 activations lost 0.64 pt on kz-celebs
    /// without it (mean cosine to float32 0.976 over 130 kz-celebs and ORL faces, 0.9995 with its weights alone
    /// quantized: the loss was in the activations; 0.995 equalized; bench int8-sweep, 2026-11-30). dlib has no PRelu.
    /// </summary>
    public static bool EqualizeFor(string baseModel) => baseModel == ModelNames.MobileFaceNet;

    /// <summary>
    /// Whether <paramref name="baseModel"/>'s linear head (<see cref="OnnxQuantizer.LinearHeadConvs"/>) stays float32:
    /// MobileFaceNet, where the uint8 rounding of the 7x7 depthwise Conv's output (one value per channel per face,
    /// feeding the two 1x1 Convs of the embedding) was the largest single error: kept in float32 alone, it raised the mean cosine
    /// to float32 by 0.00075 and the lowest by 0.008, nearly 4x more than any other of the 197 activations (bench int8-sweep
    /// --activations, 130 kz-celebs and ORL faces, 2026-11-30). The head's Convs run on 7x7 and 1x1 maps, so in
    /// float32 they cost no measurable time (2.22x against 2.24x fp32 at batch 16 in the same run). dlib's head is a
    /// float GlobalAveragePool and MatMul already.
    /// </summary>
    public static bool FloatHeadFor(string baseModel) => baseModel == ModelNames.MobileFaceNet;

    /// <summary>Equalization exponents (<see cref="ChannelEqualizer.Equalize"/>): full where B is depthwise, the geometric mean where it is dense.</summary>
    internal const double DepthwiseAlpha = 1, DenseAlpha = 0.5;

    /// <summary>How the card names <paramref name="method"/>.</summary>
    internal static string MethodLabel(CalibrationMethod method) =>
        method switch
        {
            CalibrationMethod.MinMax => "min/max",
            CalibrationMethod.Mse => "least squared error (uint8 rounding + clipping over a 2048-bin histogram)",
            _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"percentile {ActivationCalibrator.Percentile * 100:0.##} %"),
        };

    /// <summary>The store name of <paramref name="baseModel"/>'s int8 version.</summary>
    public static string NameOf(string baseModel) => baseModel + "-int8";

    /// <summary>
    /// True when <paramref name="baseModel"/>'s int8 model is installed and intact (<see cref="ModelStore.Check"/>) and
    /// was made from the installed float32 model by this quantizer.
    /// </summary>
    public static bool IsCurrent(ModelStore store, string baseModel)
    {
        var name = NameOf(baseModel);
        // a damaged file (its SHA-256 is not its card's) is made again, as a missing one is
        if (store.Check(name).Status != ModelStatus.Installed) return false;
        try
        {
            var card = store.ReadCard(name);
            var baseCard = store.ReadCard(baseModel);
            return card?.Quantization is { } q && baseCard is not null && q.QuantizerVersion == QuantizerVersion
                && q.BaseOnnxSha256 == baseCard.OnnxSha256 && card.ConverterVersion == ModelCatalog.ConverterVersion
                && q.CalibrationMethod == MethodLabel(MethodFor(baseModel))
                // a re-measured loss reaches the card (as re-measured operating points do, ModelCatalog.IsCurrent)
                && q.MeasuredLoss?.MeasuredAt == MeasuredLoss(baseModel)?.MeasuredAt;
        }
        catch (ModelInstallException)
        {
            return false;
        }
    }

    private static readonly object BuildLock = new();

    /// <summary><see cref="EnsureInstalled"/> as the store's <see cref="IInt8ModelMaker"/>.</summary>
    public static IInt8ModelMaker Maker { get; } = new MakerImpl();

    private sealed class MakerImpl : IInt8ModelMaker
    {
        public string EnsureInstalled(ModelStore store, string baseModel, IProgress<string>? log) => Int8Models.EnsureInstalled(store, baseModel, log);
    }

    /// <summary>
    /// Makes sure <paramref name="baseModel"/> (a built-in embedder's store name) and its int8 version are installed,
    /// building the int8 one when missing or made from another float32 model. Returns the int8 model's path.
    /// </summary>
    public static string EnsureInstalled(ModelStore store, string baseModel, IProgress<string>? log = null)
    {
        store.EnsureInstalled([baseModel], log);
        if (IsCurrent(store, baseModel)) return store.PathOf(NameOf(baseModel));
        lock (BuildLock)
        {
            if (!IsCurrent(store, baseModel)) Install(store, baseModel, MethodFor(baseModel), log);
        }
        return store.PathOf(NameOf(baseModel));
    }

    /// <summary>Builds and writes <c>NAME-int8.onnx</c> then its card (each atomically; the card marks it installed).</summary>
    public static ModelCard Install(ModelStore store, string baseModel, CalibrationMethod method, IProgress<string>? log = null)
    {
        var baseCard = store.ReadCard(baseModel)
            ?? throw new ModelInstallException($"{baseModel} is not installed in {store.Directory}; run 'facenet models install'");
        var info = Embedders.FromCard(baseCard, store.CardPathOf(baseModel));
        log?.Report($"calibrating {NameOf(baseModel)} on the sample photos' faces");
        var chips = CalibrationChips(store, info.Template, info.InputSize, log);
        var (bytes, card) = Build(File.ReadAllBytes(store.PathOf(baseModel)), baseCard, info, chips, method);
        AtomicFile.Write(store.PathOf(card.Name), s => s.Write(bytes));
        var json = card.ToJsonBytes();
        AtomicFile.Write(store.CardPathOf(card.Name), s => s.Write(json));
        log?.Report($"installed {card.Name} ({bytes.Length / 1024} KiB) in {store.Directory}");
        return card;
    }

    /// <summary>
    /// The quantized model's bytes and card, calibrated on <paramref name="chips"/> (aligned for <paramref name="info"/>)
    /// and their mirror images. <paramref name="floatHead"/> overrides <see cref="FloatHeadFor"/> (for measurements).
    /// </summary>
    public static (byte[] Onnx, ModelCard Card) Build(byte[] fp32Onnx, ModelCard baseCard, EmbedderInfo info,
        IReadOnlyList<RgbImage> chips, CalibrationMethod method, bool? floatHead = null)
    {
        var (fp32, shortcuts) = ShortcutRewriter.Rewrite(ModelProto.Parser.ParseFrom(fp32Onnx));
        var inputs = CalibrationInputs(chips, info);
        int s = info.InputSize;
        int equalized = 0;
        if (EqualizeFor(baseCard.Name))
        {
            var chainTensors = ChannelEqualizer.Chains(fp32).Select(c => c.Tensor).ToList();
            var channelMax = ChannelEqualizer.ChannelMaxAbs(fp32, chainTensors, inputs, [3, s, s]);
            (fp32, equalized) = ChannelEqualizer.Equalize(fp32, channelMax, DepthwiseAlpha, DenseAlpha);
        }
        var floatConvs = (floatHead ?? FloatHeadFor(baseCard.Name)) ? OnnxQuantizer.LinearHeadConvs(fp32) : null;
        var tensors = OnnxQuantizer.TensorsToCalibrate(fp32, floatConvs);
        var ranges = ActivationCalibrator.Measure(fp32, tensors, inputs, [3, s, s], method);
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(OnnxQuantizer.Quantize(fp32, ranges, floatConvs));
        var card = baseCard with
        {
            Name = NameOf(baseCard.Name),
            Description = baseCard.Description + "; int8 (static QDQ quantization made on this machine)",
            OnnxSha256 = Npm.NpmPackage.Sha256(bytes),
            ConvertedAt = DateTimeOffset.UtcNow,
            Quantization = new ModelCardQuantization
            {
                Precision = "int8",
                QuantizerVersion = QuantizerVersion,
                BaseModel = baseCard.Name,
                BaseOnnxSha256 = baseCard.OnnxSha256,
                Format = "ONNX QDQ: QuantizeLinear/DequantizeLinear pairs around every Conv, fused by ONNX Runtime into QLinearConv; " +
                    "each Conv -> PRelu as Relu(z) + Min(a+ z, 0) + Max(a- z, 0) with slope-scaled Convs and QLinearAdds" +
                    (shortcuts > 0 ? $"; {shortcuts} shortcut AveragePool 2x2 (+ channel Pad) as 2x2 stride-2 Convs with weights 1/4, so their Adds are QLinearAdds" : "") +
                    (floatConvs is { Count: > 0 } ? $"; the linear head after the last PRelu ({floatConvs.Count} Convs) stays float32, weights and activations" : ""),
                Weights = "int8, symmetric, per output channel (scale = max|w| / 127), bias int32 at scale s_x * s_w",
                Activations = "uint8, asymmetric, per tensor, at each Conv's input and output (after its Relu where it has one)" +
                    (equalized > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"; before calibration, {equalized} Conv -> PRelu -> Conv chains equalized per channel (channel c of the PRelu output divided by (r_c / R)^alpha, the next Conv's weights multiplied by it; alpha {DepthwiseAlpha} before a depthwise Conv, {DenseAlpha} before a dense one; the float32 function is unchanged)") : ""),
                QuantizedConvs = OnnxQuantizer.QuantizableConvs(fp32, floatConvs).Count,
                CalibrationMethod = MethodLabel(method),
                CalibrationSource = $"the faces MTCNN finds in {SamplePhotos.Files.Count} sample photos of npm {SamplePhotos.Package.Spec} " +
                    $"(package/demo/sample1-6.jpg, pinned by SHA-256), aligned for the model, each also mirrored",
                CalibrationChips = inputs.Count,
                MeasuredLoss = MeasuredLoss(baseCard.Name),
                OperatingPoints = "the float32 model's, copied (threshold and FAR points were not re-measured for int8; measured_loss holds its measured loss against float32)",
            },
        };
        return (bytes, card);
    }

    /// <summary>Each chip and its mirror image as the model's input (NCHW float, the model's mean and scale).</summary>
    public static List<float[]> CalibrationInputs(IReadOnlyList<RgbImage> chips, EmbedderInfo info)
    {
        var inputs = new List<float[]>();
        int s = info.InputSize;
        foreach (var chip in chips)
            foreach (var mirror in new[] { false, true })
            {
                var x = new float[3 * s * s];
                OnnxFaceEmbedder.ToChw(chip, info.Mean, info.Scale, mirror, x);
                inputs.Add(x);
            }
        return inputs;
    }

    /// <summary>
    /// The faces of the sample photos, aligned onto <paramref name="template"/> at <paramref name="size"/>; with
    /// <paramref name="jitter"/> &gt; 0, each face also that many more times with its landmarks moved (seeded: see
    /// <see cref="Jittered"/>) and its brightness and contrast changed (<see cref="Photometric"/>).
    /// </summary>
    public static IReadOnlyList<RgbImage> CalibrationChips(ModelStore store, AlignmentTemplate template, int size, IProgress<string>? log = null, int jitter = 0)
    {
        var photos = SamplePhotos.Ensure(Path.Combine(store.Directory, "sample-photos"), log);
        using var detector = MtcnnDetector.FromStore(store, null, log);
        var aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = template, ImageSize = size });
        var chips = new List<RgbImage>();
        foreach (var path in photos)
        {
            var image = ImageLoader.Load(path);
            foreach (var face in detector.Detect(image))
            {
                chips.Add(aligner.Align(image, face));
                var random = new Random(chips.Count);
                for (int j = 0; j < jitter; j++) chips.Add(Photometric(aligner.Align(image, Jittered(face, random)), random));
            }
        }
        if (chips.Count == 0) throw new ModelInstallException("calibration: MTCNN found no face in the sample photos");
        return chips;
    }

    /// <summary>
    /// <paramref name="face"/> with its landmarks moved by a random similarity transform about their centre: rotation
    /// up to 6 degrees, scale 0.94-1.06, shift up to 4 % of the distance between the eyes (alignment noise of the
    /// size MTCNN's landmarks show between two photos of one face).
    /// </summary>
    private static DetectedFace Jittered(DetectedFace face, Random random)
    {
        var l = face.Landmarks;
        var centre = l.Aggregate(System.Numerics.Vector2.Zero, (a, b) => a + b) / l.Length;
        float eyes = System.Numerics.Vector2.Distance(l[0], l[1]);
        float angle = (float)((random.NextDouble() * 2 - 1) * 6 * Math.PI / 180), scale = (float)(1 + (random.NextDouble() * 2 - 1) * 0.06);
        var shift = new System.Numerics.Vector2((float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1)) * 0.04f * eyes;
        var rotate = System.Numerics.Matrix3x2.CreateRotation(angle) * System.Numerics.Matrix3x2.CreateScale(scale);
        return face with { Landmarks = [.. l.Select(p => System.Numerics.Vector2.Transform(p - centre, rotate) + centre + shift)] };
    }

    /// <summary><paramref name="chip"/> with contrast times 0.75-1.25 about mid-grey and brightness moved by up to 25 levels.</summary>
    private static RgbImage Photometric(RgbImage chip, Random random)
    {
        float contrast = (float)(0.75 + random.NextDouble() * 0.5), brightness = (float)((random.NextDouble() * 2 - 1) * 25);
        var pixels = new byte[chip.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Clamp(MathF.Round((chip.Pixels[i] - 127.5f) * contrast + 127.5f + brightness), 0, 255);
        return new RgbImage(chip.Width, chip.Height, pixels);
    }

    /// <summary>
    /// The int8-vs-float32 accuracy measured by <c>FaceNetSharp.Bench int8</c>, embedded from
    /// <c>Models/Quantization/int8-loss-MODEL.json</c>; null where not measured.
    /// </summary>
    internal static Int8LossReport? MeasuredLoss(string model)
    {
        var name = $"FaceNetSharp.Models.Quantization.int8-loss-{model}.json";
        using var stream = typeof(Int8Models).Assembly.GetManifestResourceStream(name);
        if (stream is null) return null;
        return System.Text.Json.JsonSerializer.Deserialize<Int8LossReport>(stream, ModelCard.Json)
            ?? throw new InvalidDataException($"{name} is empty");
    }
}
