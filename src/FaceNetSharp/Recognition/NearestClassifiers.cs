using FaceNetSharp.IO;
using System.Numerics.Tensors;

namespace FaceNetSharp.Recognition;

/// <summary>
/// A classifier of face embeddings into known people with an open-set rule: a face too far from every known class
/// is "unknown". Implementations are immutable after training; <see cref="Predict"/> is thread-safe.
/// </summary>
/// <remarks>
/// The extension point for further methods (e.g. a linear SVM on ML.NET): implement this interface, give the method
/// a name for <see cref="Method"/>, write it in <see cref="Save"/>, and add a case for that name to
/// <see cref="EmbeddingClassifiers.Load(string)"/>.
/// </remarks>
public interface IEmbeddingClassifier
{
    /// <summary>The method's name as saved in JSON ("knn", "nearest-centre").</summary>
    string Method { get; }

    /// <summary>The id of the embedding model the classifier was trained on.</summary>
    string ModelId { get; }

    /// <summary>The embedding length.</summary>
    int Dimensions { get; }

    /// <summary>The distance metric of <see cref="Threshold"/> and of <see cref="ClassifierPrediction.Distance"/>.</summary>
    EmbeddingMetric Metric { get; }

    /// <summary>A face whose distance to the best class is at or above this is unknown, in <see cref="Metric"/>'s units.</summary>
    float Threshold { get; }

    /// <summary>The known classes (people), in training order of first appearance.</summary>
    IReadOnlyList<string> Classes { get; }

    /// <summary>Classifies one embedding (<see cref="Dimensions"/> long; normalised here).</summary>
    ClassifierPrediction Predict(ReadOnlySpan<float> embedding);

    /// <summary>Writes the classifier as JSON, atomically.</summary>
    void Save(string jsonPath);
}

/// <summary>What a classifier said about one face.</summary>
/// <param name="Label">The person, or null when the face is unknown (too far from every class).</param>
/// <param name="NearestClass">The best class, known or not.</param>
/// <param name="Distance">The distance on which the open-set rule was decided (see each classifier).</param>
/// <param name="Probability">The method's probability of <paramref name="NearestClass"/> where it has one (svm).</param>
public sealed record ClassifierPrediction(string? Label, string NearestClass, float Distance, float? Probability = null)
{
    /// <summary>True when the face was recognised as <see cref="Label"/>.</summary>
    public bool IsKnown => Label is not null;
}

/// <summary>
/// What every classifier shares: the model it was trained on, the metric and open-set threshold, and its classes.
/// </summary>
public abstract class EmbeddingClassifier : IEmbeddingClassifier
{
    private protected EmbeddingClassifier(string modelId, int dimensions, EmbeddingMetric metric, float threshold, string[] classes)
    {
        ModelId = modelId;
        Dimensions = dimensions;
        Metric = metric;
        Threshold = threshold;
        ClassNames = classes;
    }

    /// <inheritdoc/>
    public abstract string Method { get; }
    /// <inheritdoc/>
    public string ModelId { get; }
    /// <inheritdoc/>
    public int Dimensions { get; }
    /// <inheritdoc/>
    public EmbeddingMetric Metric { get; }
    /// <inheritdoc/>
    public float Threshold { get; }
    /// <inheritdoc/>
    public IReadOnlyList<string> Classes => ClassNames;

    /// <summary>The classes, indexed as the subclass stores them.</summary>
    private protected string[] ClassNames { get; }

    /// <inheritdoc/>
    public abstract ClassifierPrediction Predict(ReadOnlySpan<float> embedding);
    /// <inheritdoc/>
    public abstract void Save(string jsonPath);
}

/// <summary>
/// k-nearest-neighbour classification over every training embedding (exact search): the k nearest training faces
/// vote, one vote each; a tie goes to the tied class with the nearest face. The open-set distance is the distance
/// to the winning class's nearest face, so a threshold calibrated with
/// <see cref="ThresholdCalibration.ForNearestNeighbour"/> fits it.
/// </summary>
public sealed class KNearestClassifier : EmbeddingClassifier
{
    /// <summary>The method name saved in JSON.</summary>
    public const string MethodName = "knn";

    private readonly float[] _rows;     // training vectors, unit length, row-major [count, dims]
    private readonly int[] _classOfRow;

    private KNearestClassifier(string modelId, int dimensions, EmbeddingMetric metric, float threshold, int k,
        string[] classes, float[] rows, int[] classOfRow)
        : base(modelId, dimensions, metric, threshold, classes)
    {
        K = k;
        _rows = rows;
        _classOfRow = classOfRow;
    }

    /// <inheritdoc/>
    public override string Method => MethodName;

    /// <summary>How many neighbours vote.</summary>
    public int K { get; }

    /// <summary>How many training embeddings the classifier holds.</summary>
    public int TrainingCount => _classOfRow.Length;

    /// <summary>Keeps (normalised copies of) the training embeddings.</summary>
    /// <param name="modelId">The embedding model's id.</param>
    /// <param name="dimensions">The embedding length.</param>
    /// <param name="samples">Labelled embeddings; at least one.</param>
    /// <param name="k">Neighbours that vote (at least 1).</param>
    /// <param name="threshold">The open-set threshold (see <see cref="IEmbeddingClassifier.Threshold"/>).</param>
    /// <param name="metric">The distance metric.</param>
    public static KNearestClassifier Train(string modelId, int dimensions, IEnumerable<(string Label, float[] Vector)> samples,
        int k, float threshold, EmbeddingMetric metric = EmbeddingMetric.Cosine)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var (classes, rows, classOfRow) = ClassifierData.Collect(modelId, dimensions, samples, threshold);
        return new KNearestClassifier(modelId, dimensions, metric, threshold, k, classes, rows, classOfRow);
    }

    /// <inheritdoc/>
    public override ClassifierPrediction Predict(ReadOnlySpan<float> embedding)
    {
        var q = VectorMath.Normalized(embedding, Dimensions, "the embedding");
        int n = _classOfRow.Length;
        int k = Math.Min(K, n);
        // The k best rows by dot product, kept in a min-heap whose root is the weakest kept.
        var heap = new PriorityQueue<int, float>(k + 1);
        for (int r = 0; r < n; r++)
        {
            float dot = TensorPrimitives.Dot(_rows.AsSpan(r * Dimensions, Dimensions), q);
            if (heap.Count < k) heap.Enqueue(r, dot);
            else if (heap.TryPeek(out _, out float weakest) && dot > weakest) heap.EnqueueDequeue(r, dot);
        }
        var votes = new Dictionary<int, (int Votes, float BestDot)>();
        while (heap.TryDequeue(out int r, out float dot))
        {
            var c = _classOfRow[r];
            var (v, best) = votes.GetValueOrDefault(c, (0, float.NegativeInfinity));
            votes[c] = (v + 1, Math.Max(best, dot));
        }
        var winner = votes.MaxBy(kv => (kv.Value.Votes, kv.Value.BestDot));
        float distance = VectorMath.DistanceFromDot(winner.Value.BestDot, Metric);
        string name = ClassNames[winner.Key];
        return new ClassifierPrediction(distance < Threshold ? name : null, name, distance);
    }

    /// <inheritdoc/>
    public override void Save(string jsonPath) =>
        ClassifierData.Save(jsonPath, this, K, ClassifierData.GroupRows(ClassNames, _rows, _classOfRow, Dimensions));

    internal static KNearestClassifier FromFile(string path, ClassifierFileDto dto, EmbeddingMetric metric)
    {
        if (dto.K is not int k || k <= 0) throw new InvalidDataException($"{path}: a knn classifier needs k >= 1");
        var samples = ClassifierData.Samples(path, dto);
        var (classes, rows, classOfRow) = ClassifierData.Collect(dto.ModelId!, dto.Dimensions, samples, dto.Threshold);
        return new KNearestClassifier(dto.ModelId!, dto.Dimensions, metric, dto.Threshold, k, classes, rows, classOfRow);
    }
}

/// <summary>
/// Nearest-class-centre classification: each class is the mean of its training embeddings, re-normalised to unit
/// length; a face belongs to the nearest centre. The open-set distance is the distance to that centre, so a
/// threshold calibrated with <see cref="ThresholdCalibration.ForNearestCentre"/> fits it.
/// </summary>
public sealed class NearestCentreClassifier : EmbeddingClassifier
{
    /// <summary>The method name saved in JSON.</summary>
    public const string MethodName = "nearest-centre";

    private readonly float[] _centres; // unit length, row-major [classes, dims]

    private NearestCentreClassifier(string modelId, int dimensions, EmbeddingMetric metric, float threshold,
        string[] classes, float[] centres)
        : base(modelId, dimensions, metric, threshold, classes)
    {
        _centres = centres;
    }

    /// <inheritdoc/>
    public override string Method => MethodName;

    /// <summary>The unit-length centre of class <paramref name="index"/> (an index into <see cref="EmbeddingClassifier.Classes"/>).</summary>
    public ReadOnlySpan<float> Centre(int index) => _centres.AsSpan(index * Dimensions, Dimensions);

    /// <summary>Computes the class centres.</summary>
    /// <param name="modelId">The embedding model's id.</param>
    /// <param name="dimensions">The embedding length.</param>
    /// <param name="samples">Labelled embeddings; at least one.</param>
    /// <param name="threshold">The open-set threshold (see <see cref="IEmbeddingClassifier.Threshold"/>).</param>
    /// <param name="metric">The distance metric.</param>
    public static NearestCentreClassifier Train(string modelId, int dimensions, IEnumerable<(string Label, float[] Vector)> samples,
        float threshold, EmbeddingMetric metric = EmbeddingMetric.Cosine)
    {
        var (classes, rows, classOfRow) = ClassifierData.Collect(modelId, dimensions, samples, threshold);
        return new NearestCentreClassifier(modelId, dimensions, metric, threshold, classes,
            ClassifierData.Centres(classes.Length, rows, classOfRow, dimensions));
    }

    /// <inheritdoc/>
    public override ClassifierPrediction Predict(ReadOnlySpan<float> embedding)
    {
        var q = VectorMath.Normalized(embedding, Dimensions, "the embedding");
        int best = 0;
        float bestDot = float.NegativeInfinity;
        for (int c = 0; c < ClassNames.Length; c++)
        {
            float dot = TensorPrimitives.Dot(Centre(c), q);
            if (dot > bestDot) { bestDot = dot; best = c; }
        }
        float distance = VectorMath.DistanceFromDot(bestDot, Metric);
        return new ClassifierPrediction(distance < Threshold ? ClassNames[best] : null, ClassNames[best], distance);
    }

    /// <inheritdoc/>
    public override void Save(string jsonPath) => ClassifierData.Save(jsonPath, this, k: null,
        ClassNames.Select((name, c) => new ClassifierClassDto(name, [Centre(c).ToArray()])).ToList());

    internal static NearestCentreClassifier FromFile(string path, ClassifierFileDto dto, EmbeddingMetric metric)
    {
        var samples = ClassifierData.Samples(path, dto);
        var (classes, rows, classOfRow) = ClassifierData.Collect(dto.ModelId!, dto.Dimensions, samples, dto.Threshold);
        if (classOfRow.Length != classes.Length)
            throw new InvalidDataException($"{path}: a nearest-centre classifier has exactly one vector (its centre) per class");
        return new NearestCentreClassifier(dto.ModelId!, dto.Dimensions, metric, dto.Threshold, classes, rows);
    }
}

/// <summary>Loads saved classifiers.</summary>
public static class EmbeddingClassifiers
{
    internal const string Format = "facenetsharp-classifier";
    internal const int FormatVersion = 1;

    /// <summary>Loads a classifier saved with <see cref="IEmbeddingClassifier.Save"/>, whatever its method.</summary>
    /// <exception cref="InvalidDataException">The file is not a classifier, or of an unknown method.</exception>
    public static IEmbeddingClassifier Load(string jsonPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        var dto = RecognitionFiles.Read(jsonPath, RecognitionJsonContext.Default.ClassifierFileDto);
        if (dto.Format != Format)
            throw new InvalidDataException($"{jsonPath}: format is '{dto.Format}', expected '{Format}'");
        if (dto.FormatVersion > FormatVersion)
            throw new InvalidDataException($"{jsonPath} has classifier format version {dto.FormatVersion}; this code reads up to {FormatVersion}");
        if (string.IsNullOrWhiteSpace(dto.ModelId) || dto.Dimensions <= 0)
            throw new InvalidDataException($"{jsonPath}: modelId and a positive dimensions are required");
        var metric = EmbeddingMetrics.TryParse(dto.Metric)
            ?? throw new InvalidDataException($"{jsonPath}: unknown metric '{dto.Metric}' (expected 'cosine' or 'euclidean')");
        // Each method's own loader; a new method adds its case here.
        try
        {
            return dto.Method switch
            {
                KNearestClassifier.MethodName => KNearestClassifier.FromFile(jsonPath, dto, metric),
                NearestCentreClassifier.MethodName => NearestCentreClassifier.FromFile(jsonPath, dto, metric),
                Svm.LinearSvmClassifier.MethodName => Svm.LinearSvmClassifier.FromFile(jsonPath, dto, metric),
                _ => throw new InvalidDataException($"{jsonPath}: unknown classifier method '{dto.Method}'"),
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{jsonPath}: {e.Message}", e);
        }
    }

    /// <summary>Loads a classifier and checks that it was trained on embeddings of the given model.</summary>
    /// <exception cref="EmbeddingModelMismatchException">The classifier is for another model id or dimension.</exception>
    public static IEmbeddingClassifier Load(string jsonPath, string modelId, int dimensions)
    {
        var classifier = Load(jsonPath);
        if (classifier.ModelId != modelId || classifier.Dimensions != dimensions)
            throw new EmbeddingModelMismatchException(jsonPath, classifier.ModelId, classifier.Dimensions, modelId, dimensions);
        return classifier;
    }
}

/// <summary>Training-data handling shared by the classifiers.</summary>
internal static class ClassifierData
{
    /// <summary>Validates and normalises samples: classes in order of first appearance, rows, class of each row.</summary>
    public static (string[] Classes, float[] Rows, int[] ClassOfRow) Collect(string modelId, int dimensions,
        IEnumerable<(string Label, float[] Vector)> samples, float threshold)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        ArgumentNullException.ThrowIfNull(samples);
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "must be finite");
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var classes = new List<string>();
        var rows = new List<float>();
        var classOfRow = new List<int>();
        foreach (var (label, vector) in samples)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(label, nameof(samples));
            ArgumentNullException.ThrowIfNull(vector, nameof(samples));
            if (!classIndex.TryGetValue(label, out int c))
            {
                classIndex[label] = c = classes.Count;
                classes.Add(label);
            }
            rows.AddRange(VectorMath.Normalized(vector, dimensions, $"sample {classOfRow.Count} ('{label}')"));
            classOfRow.Add(c);
        }
        if (classOfRow.Count == 0) throw new ArgumentException("no training samples", nameof(samples));
        return (classes.ToArray(), rows.ToArray(), classOfRow.ToArray());
    }

    /// <summary>Each class's mean of unit rows, re-normalised.</summary>
    public static float[] Centres(int classCount, float[] rows, int[] classOfRow, int dims)
    {
        var centres = new float[classCount * dims];
        for (int r = 0; r < classOfRow.Length; r++)
        {
            var centre = centres.AsSpan(classOfRow[r] * dims, dims);
            TensorPrimitives.Add(centre, rows.AsSpan(r * dims, dims), centre);
        }
        for (int c = 0; c < classCount; c++)
        {
            var centre = centres.AsSpan(c * dims, dims);
            // A mean of unit vectors is zero only if they cancel exactly: such a class has no direction.
            VectorMath.NormalizeInto(centre, centre, dims, $"the centre of class {c}");
        }
        return centres;
    }

    public static List<ClassifierClassDto> GroupRows(string[] classes, float[] rows, int[] classOfRow, int dims)
    {
        var groups = classes.Select(name => new ClassifierClassDto(name, [])).ToList();
        for (int r = 0; r < classOfRow.Length; r++) groups[classOfRow[r]].Vectors!.Add(rows.AsSpan(r * dims, dims).ToArray());
        return groups;
    }

    public static void Save(string jsonPath, IEmbeddingClassifier classifier, int? k, List<ClassifierClassDto> classes, string? svmModel = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jsonPath);
        var dto = new ClassifierFileDto(EmbeddingClassifiers.Format, EmbeddingClassifiers.FormatVersion, classifier.Method,
            classifier.ModelId, classifier.Dimensions, EmbeddingMetrics.Name(classifier.Metric), classifier.Threshold, k, classes, svmModel);
        AtomicFile.Write(jsonPath,
            stream => System.Text.Json.JsonSerializer.Serialize(stream, dto, RecognitionJsonContext.Default.ClassifierFileDto));
    }

    /// <summary>The (label, vector) pairs of a saved classifier, checked.</summary>
    public static List<(string Label, float[] Vector)> Samples(string path, ClassifierFileDto dto)
    {
        var samples = new List<(string, float[])>();
        foreach (var c in dto.Classes ?? [])
        {
            if (string.IsNullOrWhiteSpace(c.Name)) throw new InvalidDataException($"{path}: a class has no name");
            foreach (var v in c.Vectors ?? [])
            {
                if (v is null || v.Length != dto.Dimensions || !v.All(float.IsFinite))
                    throw new InvalidDataException($"{path}: a vector of class '{c.Name}' is not {dto.Dimensions} finite numbers");
                samples.Add((c.Name, v));
            }
        }
        if (samples.Count == 0) throw new InvalidDataException($"{path}: the classifier has no vectors");
        return samples;
    }
}
