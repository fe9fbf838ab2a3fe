namespace FaceNetSharp.Detection;

/// <summary>
/// MTCNN settings. Defaults are facenet's (src/align/align_dataset_mtcnn.py: minsize = 20,
/// threshold = [0.6, 0.7, 0.7], factor = 0.709).
/// </summary>
public sealed record MtcnnOptions
{
    /// <summary>Smallest face to find, in pixels of the original image.</summary>
    public double MinFaceSize { get; init; } = 20;

    /// <summary>Score thresholds of P-Net, R-Net and O-Net.</summary>
    public double PNetThreshold { get; init; } = 0.6;
    /// <inheritdoc cref="PNetThreshold"/>
    public double RNetThreshold { get; init; } = 0.7;

    /// <inheritdoc cref="PNetThreshold"/>
    public double ONetThreshold { get; init; } = 0.7;

    /// <summary>Ratio between neighbouring pyramid levels (facenet: 0.709, about 1/sqrt(2)).</summary>
    public double ScaleFactor { get; init; } = 0.709;

    /// <summary>
    /// How ONNX Runtime runs the three networks: execution provider, threads, memory arena. Its intra-op threads
    /// default to 1 here (<see cref="DefaultIntraOpThreads"/>).
    /// </summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>
    /// MTCNN's intra-op threads when <see cref="Inference"/> leaves them open: 1. Its networks are small, and one image
    /// runs many of them (a P-Net per pyramid level), so threads inside a run cost more than they give; callers
    /// parallelise over images instead.
    /// </summary>
    public const int DefaultIntraOpThreads = 1;

    /// <summary>
    /// Largest number of crops sent to R-Net or O-Net in one batch (bounds memory on crowded photos): 32 by default.
    /// Results do not depend on it. ONNX Runtime keeps the working memory of the largest batch it has run (O-Net's first
    /// layer alone is 0.27 MB a crop); measured with bench/align-vs-facenet-pytorch.sh's 1080p frames and 2 workers,
    /// peak RSS of `facenet align` was 420 MB at 256 and 320 MB at 64 (P-Net bands of 2^18), at the same CPU time.
    /// </summary>
    public int MaxBatch { get; init; } = 32;

    /// <summary>
    /// How the pyramid levels and the R-Net/O-Net crops are resampled. facenet uses OpenCV's INTER_AREA
    /// (<see cref="MtcnnResampling.Area"/>); <see cref="MtcnnResampling.PilBox"/> reproduces references built on PIL.
    /// </summary>
    public MtcnnResampling Resampling { get; init; } = MtcnnResampling.Area;

    /// <summary>
    /// The largest P-Net run, in input pixels of a pyramid level: levels are scanned in horizontal bands of at most this
    /// many pixels (full rows), which bounds ONNX Runtime's working memory for one run (measured about 200 bytes per
    /// input pixel: peak RSS of `facenet detect` on the 40-Mpx images of scripts/detection-memory.sh was 580, 450 and
    /// 370 MB at 2^20, 2^19 and 2^18, at the same speed). Results do not depend on it (each band re-reads 10 rows of the
    /// previous one, which P-Net computes again: 18% more P-Net work on a 1152-pixel-wide level at 2^16).
    /// 2^16 by default: `facenet align` on 1080p frames with 2 workers peaked at 330, 280 and 245 MB at 2^18, 2^17 and
    /// 2^16 (R-Net/O-Net batches of 64), and 222 MB at 2^16 with batches of 32 (bench/align-vs-facenet-pytorch.sh).
    /// </summary>
    internal int PNetBandPixels { get; init; } = 1 << 16;

    internal void Validate()
    {
        if (PNetBandPixels < 1024) throw new ArgumentOutOfRangeException(nameof(PNetBandPixels), PNetBandPixels, "must be at least 1024");
        if (MinFaceSize < 12) throw new ArgumentOutOfRangeException(nameof(MinFaceSize), MinFaceSize, "must be at least 12 pixels (P-Net's window)");
        if (ScaleFactor is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(ScaleFactor), ScaleFactor, "must be in (0, 1)");
        foreach (var t in new[] { PNetThreshold, RNetThreshold, ONetThreshold })
            if (t is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(PNetThreshold), t, "thresholds must be in [0, 1]");
        if (MaxBatch < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatch), MaxBatch, "must be at least 1");
    }
}

/// <summary>Resampling used inside MTCNN.</summary>
public enum MtcnnResampling
{
    /// <summary>
    /// OpenCV's <c>cv2.resize(INTER_AREA)</c>, facenet's choice, with OpenCV's own arithmetic (see OpenCvResize):
    /// uint8 pyramid levels, float64 crops. Reproduces facenet's detect_face.py with OpenCV 4.6.
    /// </summary>
    Area,
    /// <summary>PIL's BOX filter (whole pixels whose centres fall inside each output pixel).</summary>
    PilBox,
}
