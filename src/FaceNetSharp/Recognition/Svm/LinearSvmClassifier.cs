using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FaceNetSharp.Recognition.Svm;

/// <summary>
/// facenet's classifier.py choice, <c>SVC(kernel='linear', probability=True)</c>, on ML.NET: one linear SVM per person
/// (one-versus-all over <c>LinearSvm</c>, Platt-calibrated so that each face gets a probability per person). The SVM
/// names the person; the open-set rule is the nearest-neighbour one of <see cref="KNearestClassifier"/>: a face farther
/// than <see cref="EmbeddingClassifier.Threshold"/> from every training face of that person is unknown, so the threshold that
/// <see cref="ThresholdCalibration.ForNearestNeighbour"/> calibrates fits it. Predict is thread-safe.
/// </summary>
public sealed class LinearSvmClassifier : EmbeddingClassifier
{
    /// <summary>The method name saved in JSON.</summary>
    public const string MethodName = "svm";

    // LinearSvm's default is 1 iteration over the data (ML.NET); facenet's libsvm solves to convergence. 50 passes of
    // Pegasos reached the same training accuracy as 200 on the kz-celebs embeddings; more only cost time.
    private const int Iterations = 50;

    private readonly float[] _rows;       // unit-length training vectors, row-major [n, dims]
    private readonly int[] _classOfRow;
    private readonly byte[] _modelZip;    // the ML.NET model as saved, kept for Save
    private readonly ITransformer _model;
    private readonly MLContext _ml;
    private readonly DataViewSchema _inputSchema;
    private readonly int[] _scoreSlotToClass;

    private LinearSvmClassifier(string modelId, int dimensions, EmbeddingMetric metric, float threshold,
        string[] classes, float[] rows, int[] classOfRow, byte[] modelZip)
        : base(modelId, dimensions, metric, threshold, classes)
    {
        _rows = rows;
        _classOfRow = classOfRow;
        _modelZip = modelZip;
        _ml = new MLContext(seed: 0);
        using (var ms = new MemoryStream(modelZip, writable: false))
            _model = _ml.Model.Load(ms, out _inputSchema);
        _scoreSlotToClass = ScoreSlots(_ml, _model, classes, dimensions);
    }

    /// <inheritdoc/>
    public override string Method => MethodName;

    /// <summary>Trains the SVMs on labelled embeddings (normalised here). Needs at least two people.</summary>
    public static LinearSvmClassifier Train(string modelId, int dimensions, IEnumerable<(string Label, float[] Vector)> samples,
        float threshold, EmbeddingMetric metric = EmbeddingMetric.Cosine, int seed = 0)
    {
        var (classes, rows, classOfRow) = ClassifierData.Collect(modelId, dimensions, samples, threshold);
        if (classes.Length < 2) throw new ArgumentException("an SVM needs at least two people to tell apart");
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(Rows(rows, classOfRow, classes, dimensions), Schema(dimensions));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.OneVersusAll(
                ml.BinaryClassification.Trainers.LinearSvm(numberOfIterations: Iterations), useProbabilities: true));
        var model = pipeline.Fit(data);
        using var ms = new MemoryStream();
        ml.Model.Save(model, data.Schema, ms);
        return new LinearSvmClassifier(modelId, dimensions, metric, threshold, classes, rows, classOfRow, ms.ToArray());
    }

    /// <inheritdoc/>
    public override ClassifierPrediction Predict(ReadOnlySpan<float> embedding)
    {
        var q = VectorMath.Normalized(embedding, Dimensions, "the embedding");
        float[] scores;
        // A prediction engine is not thread-safe; one per call keeps Predict thread-safe (classify is not a hot path).
        using (var engine = _ml.Model.CreatePredictionEngine<Row, Scored>(_model, inputSchemaDefinition: Schema(Dimensions)))
            scores = engine.Predict(new Row { Features = q, Label = ClassNames[0] }).Score;
        float sum = TensorPrimitives.Sum(scores);
        int bestSlot = TensorPrimitives.IndexOfMax(scores);
        int best = _scoreSlotToClass[bestSlot];
        float probability = sum > 0 ? scores[bestSlot] / sum : 0;

        // Open set: distance to the nearest training face of that person.
        float bestDot = float.NegativeInfinity;
        for (int r = 0; r < _classOfRow.Length; r++)
            if (_classOfRow[r] == best)
                bestDot = Math.Max(bestDot, TensorPrimitives.Dot(_rows.AsSpan(r * Dimensions, Dimensions), q));
        float distance = VectorMath.DistanceFromDot(bestDot, Metric);
        var name = ClassNames[best];
        return new ClassifierPrediction(distance < Threshold ? name : null, name, distance, probability);
    }

    /// <inheritdoc/>
    public override void Save(string jsonPath) =>
        ClassifierData.Save(jsonPath, this, null, ClassifierData.GroupRows(ClassNames, _rows, _classOfRow, Dimensions),
            Convert.ToBase64String(_modelZip));

    internal static LinearSvmClassifier FromFile(string path, ClassifierFileDto dto, EmbeddingMetric metric)
    {
        if (string.IsNullOrEmpty(dto.SvmModel)) throw new InvalidDataException($"{path}: an svm classifier needs its svmModel");
        byte[] zip;
        try { zip = Convert.FromBase64String(dto.SvmModel); }
        catch (FormatException e) { throw new InvalidDataException($"{path}: svmModel is not base64: {e.Message}", e); }
        var samples = ClassifierData.Samples(path, dto);
        var (classes, rows, classOfRow) = ClassifierData.Collect(dto.ModelId!, dto.Dimensions, samples, dto.Threshold);
        try
        {
            return new LinearSvmClassifier(dto.ModelId!, dto.Dimensions, metric, dto.Threshold, classes, rows, classOfRow, zip);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: the SVM model cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Which class each slot of the Score column is: ML.NET orders slots by the label key, whose values are the names.</summary>
    private static int[] ScoreSlots(MLContext ml, ITransformer model, string[] classes, int dims)
    {
        var probe = ml.Data.LoadFromEnumerable(Rows(new float[dims], [0], classes, dims).Take(1), Schema(dims));
        var scored = model.Transform(probe);
        VBuffer<ReadOnlyMemory<char>> names = default;
        scored.Schema["Score"].GetSlotNames(ref names);
        var index = classes.Select((c, i) => (c, i)).ToDictionary(t => t.c, t => t.i, StringComparer.Ordinal);
        var slots = names.DenseValues().Select(n => index.TryGetValue(n.ToString(), out var i) ? i
            : throw new InvalidDataException($"the SVM model names a class '{n}' the classifier does not have")).ToArray();
        if (slots.Length != classes.Length) throw new InvalidDataException($"the SVM model has {slots.Length} classes, the classifier {classes.Length}");
        return slots;
    }

    private static IEnumerable<Row> Rows(float[] rows, int[] classOfRow, string[] classes, int dims)
    {
        for (int r = 0; r < classOfRow.Length; r++)
            yield return new Row { Features = rows.AsSpan(r * dims, dims).ToArray(), Label = classes[classOfRow[r]] };
    }

    /// <summary>The input schema with the feature vector's real length (not known at compile time).</summary>
    private static SchemaDefinition Schema(int dims)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dims);
        return schema;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }
}
