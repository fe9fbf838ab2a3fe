using System.Numerics.Tensors;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Embedding;

/// <summary>Options of an ONNX embedder.</summary>
public sealed record EmbedderOptions
{
    /// <summary>Also embed the mirrored chip and add the two vectors before normalising (test-time augmentation).</summary>
    public bool FlipAugmentation { get; init; }

    /// <summary>
    /// Chips per ONNX Runtime call. 16 by default: on 2 cores MobileFaceNet ran 154 faces/s at 16 against 140 at 64
    /// (bench/FaceNetSharp.Bench embed, 2026-11-29), the larger batches falling out of cache.
    /// </summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// How ONNX Runtime runs the network: execution provider, threads, memory arena. Its intra-op threads default to
    /// every core here (one batch of chips is one large run).
    /// </summary>
    public InferenceOptions Inference { get; init; } = new();

    /// <summary>
    /// Which version of a built-in embedder runs: the float32 model, or its int8 version (made on this machine the first
    /// time it is asked for, by <see cref="Models.ModelStore.DefaultInt8Maker"/>). A model given as an .onnx path runs as it is.
    /// </summary>
    public EmbeddingPrecision Precision { get; init; } = EmbeddingPrecision.Float32;

    /// <summary>
    /// Splits each batch into runs of at most this many chips (and at least one run per core), run at once on one
    /// session (ONNX Runtime's Run is thread-safe; the weights are loaded once), up to one run per core, each on one
    /// intra-op thread: the session then gets 1 intra-op thread unless <see cref="InferenceOptions.IntraOpThreads"/>
    /// says otherwise. 0: one run per batch, threaded inside by ONNX Runtime. Null: <see cref="DefaultInt8SubBatchSize"/>
    /// for <see cref="EmbeddingPrecision.Int8"/> when <see cref="InferenceOptions.IntraOpThreads"/> is left open, else 0.
    /// </summary>
    public int? SubBatchSize { get; init; }

    /// <summary>
    /// The int8 embedders' runs: 4 chips each, one run per core at a time. ONNX Runtime's QLinearConv splits each
    /// image's output pixels over the threads, one image after another (a fork and join per image and layer: 528 per
    /// batch of 16 for dlib, whose late layers have 25-100 output pixels), where float32 Conv splits the whole batch;
    /// and int8 activations of 16 chips fall out of the caches. dlib int8 at batch 16 on 2 cores, one process, fp32's
    /// runs interleaved (bench int8 --split, 2026-11-30, load 6): 1.46-1.80x fp32 with 2 threads per run, 1.79x in 2 runs
    /// of 8 on 1 thread each, 2.55x in runs of 4, 2.56x of 2, 2.42x of 1.
    /// </summary>
    public const int DefaultInt8SubBatchSize = 4;
}

/// <summary>The arithmetic a built-in embedder runs in.</summary>
public enum EmbeddingPrecision
{
    /// <summary>The float32 model as converted from its package.</summary>
    Float32,

    /// <summary>Its int8 quantization: about 2x the faces/s on CPUs with VNNI, vectors within the card's measured loss.</summary>
    Int8,
}

/// <summary>
/// An embedding network in ONNX form, input "input" [N,3,S,S] (normalised RGB), output [N,D] raw vectors, which
/// this class L2-normalises. An output holding NaN or infinity, or all zeros, is a <see cref="ModelInstallException"/>
/// naming the model (a fault of the model, not of the input), never a vector. Thread-safe.
/// </summary>
public sealed class OnnxFaceEmbedder : IFaceEmbedder, IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly EmbedderOptions _options;
    private readonly string _path;
    private readonly int _subBatchSize;

    /// <summary>
    /// Opens the embedder in <paramref name="onnxPath"/>, checked against the SHA-256 of its card where one lies beside
    /// it; <paramref name="info"/> says how to feed it (<see cref="Embedders.Describe"/> reads it from the card).
    /// </summary>
    public OnnxFaceEmbedder(string onnxPath, EmbedderInfo info, EmbedderOptions? options = null)
        : this(Path.GetFullPath(onnxPath), so => OnnxSessions.Open(onnxPath, so), info, options)
    {
    }

    /// <summary>
    /// Opens the embedder from a stream of ONNX bytes (read to its end; the caller disposes it), checked against
    /// <see cref="EmbedderInfo.Sha256"/> when set. <see cref="Embedders.Open(Stream, ModelCard, EmbedderOptions?)"/>
    /// does it from a card.
    /// </summary>
    public OnnxFaceEmbedder(Stream model, EmbedderInfo info, EmbedderOptions? options = null)
        : this($"{info.Name} (stream)", so => OnnxSessions.Open(model, info.Name, info.Sha256, so), info, options)
    {
    }

    private OnnxFaceEmbedder(string label, Func<SessionOptions, InferenceSession> open, EmbedderInfo info, EmbedderOptions? options)
    {
        _options = options ?? new EmbedderOptions();
        _path = label;
        string onnxPath = label;
        if (_options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be at least 1");
        _subBatchSize = _options.SubBatchSize
            ?? (_options.Precision == EmbeddingPrecision.Int8 && _options.Inference.IntraOpThreads is null ? EmbedderOptions.DefaultInt8SubBatchSize : 0);
        if (_subBatchSize < 0) throw new ArgumentOutOfRangeException(nameof(options), "SubBatchSize must be 0 (no split) or more");
        using var so = OnnxSessions.CreateOptions(_options.Inference, _subBatchSize > 0 ? 1 : Environment.ProcessorCount);
        _session = open(so);
        try
        {
            _inputName = _session.InputMetadata.Keys.Single();
            _outputName = _session.OutputMetadata.Keys.First();
            var inDims = _session.InputMetadata[_inputName].Dimensions;
            if (inDims.Length != 4 || inDims[1] != 3 || (inDims[2] > 0 && inDims[2] != info.InputSize))
                throw new ModelInstallException($"{onnxPath}: expected an input [N,3,{info.InputSize},{info.InputSize}], the model has [{string.Join(",", inDims)}]");
            var outDims = _session.OutputMetadata[_outputName].Dimensions;
            int dims = outDims.Length == 2 && outDims[1] > 0 ? outDims[1] : info.Dimensions;
            Info = info with { Dimensions = dims };
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>Chips per run of a split batch, 0 for no split (<see cref="EmbedderOptions.SubBatchSize"/>, its default resolved).</summary>
    internal int SubBatchSize => _subBatchSize;

    /// <summary>The model this embedder runs: name, input size, vector length, metric, normalisation.</summary>
    public EmbedderInfo Info { get; }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<RgbImage> alignedFaces)
    {
        var result = new float[alignedFaces.Count][];
        for (int start = 0; start < alignedFaces.Count; start += _options.BatchSize)
        {
            int count = Math.Min(_options.BatchSize, alignedFaces.Count - start);
            var raw = RunSplit(alignedFaces, start, count, mirror: false);
            var mirrored = _options.FlipAugmentation ? RunSplit(alignedFaces, start, count, mirror: true) : null;
            int d = Info.Dimensions;
            for (int k = 0; k < count; k++)
            {
                var v = raw.AsSpan(k * d, d).ToArray();
                if (mirrored is not null) TensorPrimitives.Add(v, mirrored.AsSpan(k * d, d), v);
                CheckOutput(v, start + k);
                Normalize(v);
                result[start + k] = v;
            }
        }
        return result;
    }

    /// <summary>
    /// Refuses an output no distance can be computed from: NaN or infinity (a damaged or wrong model file; a healthy
    /// network on finite pixels gives neither) or all zeros (no direction to normalise).
    /// </summary>
    private void CheckOutput(ReadOnlySpan<float> v, int face)
    {
        int bad = 0;
        foreach (var x in v) if (!float.IsFinite(x)) bad++;
        string? what = bad > 0 ? $"{bad} NaN or infinite value(s) of {v.Length}"
            : TensorPrimitives.MaxMagnitude(v) == 0 ? "an all-zero vector" : null;
        if (what is not null)
            throw new ModelInstallException(
                $"model {Info.Name} ({_path}) output {what} for face {face}: the model file is damaged or is not a face embedder",
                ModelProblem.Damaged, _path);
    }

    /// <summary>Scales <paramref name="v"/> to unit length in place (a zero vector stays zero).</summary>
    internal static void Normalize(Span<float> v)
    {
        float norm = TensorPrimitives.Norm(v);
        if (norm > 0) TensorPrimitives.Divide(v, norm, v);
    }

    /// <summary>
    /// The raw outputs of faces <paramref name="start"/>.. (<paramref name="count"/> of them): one run, or with
    /// <see cref="EmbedderOptions.SubBatchSize"/> contiguous parts of at most that many faces and at least one per core
    /// (sizes differing by at most 1), run at once on up to one thread per core, written into one array.
    /// </summary>
    private float[] RunSplit(IReadOnlyList<RgbImage> faces, int start, int count, bool mirror)
    {
        int parts = _subBatchSize == 0 ? 1 : Math.Min(count, Math.Max((count + _subBatchSize - 1) / _subBatchSize, Environment.ProcessorCount));
        if (parts == 1) return RunBatch(faces, start, count, mirror);
        int d = Info.Dimensions;
        var raw = new float[count * d];
        try
        {
            // part p: faces [start + count * p / parts, start + count * (p + 1) / parts), sizes differing by at most 1
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(parts, Environment.ProcessorCount) }, p =>
            {
                int from = count * p / parts, to = count * (p + 1) / parts;
                RunBatch(faces, start + from, to - from, mirror).CopyTo(raw.AsSpan(from * d, (to - from) * d));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return raw;
    }

    private float[] RunBatch(IReadOnlyList<RgbImage> faces, int start, int count, bool mirror)
    {
        int s = Info.InputSize, plane = s * s;
        var input = new float[count * 3 * plane];
        for (int k = 0; k < count; k++)
        {
            var face = faces[start + k];
            if (face.Width != s || face.Height != s)
                throw new ArgumentException($"face {start + k} is {face.Width}x{face.Height}; {Info.Name} takes aligned {s}x{s} chips");
            ToChw(face, Info.Mean, Info.Scale, mirror, input.AsSpan(k * 3 * plane, 3 * plane));
        }
        using var value = OrtValue.CreateTensorValueFromMemory(input, [count, 3, s, s]);
        using var outputs = _session.Run(OnnxSessions.DefaultRun, [_inputName], [value], [_outputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Packed RGB to planar CHW floats, <c>(v - mean[c]) * scale</c>, optionally mirrored left-right.</summary>
    internal static void ToChw(RgbImage face, float[] mean, float scale, bool mirror, Span<float> dst)
    {
        int w = face.Width, h = face.Height, plane = w * h;
        var px = face.Pixels;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int src = (y * w + (mirror ? w - 1 - x : x)) * 3;
                int o = y * w + x;
                dst[o] = (px[src] - mean[0]) * scale;
                dst[plane + o] = (px[src + 1] - mean[1]) * scale;
                dst[2 * plane + o] = (px[src + 2] - mean[2]) * scale;
            }
        }
    }

    /// <summary>Releases the ONNX Runtime session; the embedder is not usable after it.</summary>
    public void Dispose() => _session.Dispose();
}
