namespace FaceNetSharp.Recognition;

/// <summary>The classification methods <see cref="ClassifierTraining"/> can train.</summary>
public enum ClassifierMethod
{
    /// <summary>k nearest training faces vote (<see cref="KNearestClassifier"/>).</summary>
    Knn,
    /// <summary>Nearest class centre (<see cref="NearestCentreClassifier"/>).</summary>
    Centre,
    /// <summary>A linear SVM, as facenet's classifier.py (<c>SVC(kernel='linear', probability=True)</c>), on ML.NET.</summary>
    Svm,
}

/// <summary>How to train a classifier and choose its open-set threshold.</summary>
public sealed record ClassifierTrainingOptions
{
    /// <summary>The method.</summary>
    public ClassifierMethod Method { get; init; } = ClassifierMethod.Knn;

    /// <summary>
    /// Neighbours that vote, for <see cref="ClassifierMethod.Knn"/>. 1 by default: the open-set distance is then the
    /// nearest training face's, which is exactly what <see cref="ThresholdCalibration.ForNearestNeighbour"/> calibrates.
    /// </summary>
    public int K { get; init; } = 1;

    /// <summary>A fixed open-set threshold in the metric's units; null calibrates one on the training data.</summary>
    public float? Threshold { get; init; }

    /// <summary>What the calibration optimises when <see cref="Threshold"/> is null.</summary>
    public ThresholdObjective Objective { get; init; } = ThresholdObjective.BestBalancedAccuracy;

    /// <summary>The false-accept rate for <see cref="ThresholdObjective.TargetFalseAcceptRate"/>, in [0, 1].</summary>
    public double TargetFalseAcceptRate { get; init; } = 0.01;
}

/// <summary>A trained classifier and, when its threshold was calibrated, how the calibration did on the training faces.</summary>
public sealed record TrainedClassifier(IEmbeddingClassifier Classifier, ThresholdCalibration? Calibration);

/// <summary>Trains the classifier of a <see cref="ClassifierMethod"/> on labelled embeddings.</summary>
public static class ClassifierTraining
{
    /// <summary>
    /// Trains <paramref name="options"/>' method. Without a fixed threshold, one is calibrated by leave-one-out on the
    /// training faces (<see cref="ThresholdCalibration"/>), which needs two classes and a class with two faces;
    /// otherwise <paramref name="fallbackThreshold"/> (the embedder's own) is used and no calibration is returned.
    /// </summary>
    public static TrainedClassifier Train(string modelId, int dimensions, EmbeddingMetric metric,
        IReadOnlyList<(string Label, float[] Vector)> samples, ClassifierTrainingOptions options, float fallbackThreshold)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        if (samples.Count == 0) throw new ArgumentException("no training faces: every image failed or had no face");
        ThresholdCalibration? calibration = null;
        float threshold = options.Threshold ?? fallbackThreshold;
        bool canCalibrate = samples.Select(s => s.Label).Distinct().Count() >= 2
                            && samples.GroupBy(s => s.Label).Any(g => g.Count() >= 2);
        if (options.Threshold is null && canCalibrate)
        {
            calibration = options.Method == ClassifierMethod.Centre
                ? ThresholdCalibration.ForNearestCentre(samples, metric, options.Objective, options.TargetFalseAcceptRate)
                : ThresholdCalibration.ForNearestNeighbour(samples, metric, options.Objective, options.TargetFalseAcceptRate);
            threshold = calibration.Threshold;
        }

        IEmbeddingClassifier classifier = options.Method switch
        {
            ClassifierMethod.Knn => KNearestClassifier.Train(modelId, dimensions, samples, options.K, threshold, metric),
            ClassifierMethod.Centre => NearestCentreClassifier.Train(modelId, dimensions, samples, threshold, metric),
            ClassifierMethod.Svm => Svm.LinearSvmClassifier.Train(modelId, dimensions, samples, threshold, metric),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "unknown method"),
        };
        return new TrainedClassifier(classifier, calibration);
    }
}

/// <summary>One classified image of a labelled test set.</summary>
/// <param name="Path">The image file.</param>
/// <param name="TrueClass">The person the folder says it is.</param>
/// <param name="Prediction">The classifier's answer.</param>
/// <param name="IsEnrolled">True when <paramref name="TrueClass"/> is one of the classifier's classes.</param>
public sealed record ClassifiedImage(string Path, string TrueClass, ClassifierPrediction Prediction, bool IsEnrolled)
{
    /// <summary>
    /// An enrolled person named correctly, or a stranger (not enrolled) answered unknown.
    /// </summary>
    public bool IsCorrect => IsEnrolled ? Prediction.Label == TrueClass : !Prediction.IsKnown;
}

/// <summary>
/// How a classifier did on a labelled test set, split into enrolled people (closed-set: is the name right?) and
/// strangers (people the classifier was not trained on: is the answer "unknown"?).
/// </summary>
/// <param name="Enrolled">Test faces of people the classifier knows.</param>
/// <param name="EnrolledCorrect">Of those, named correctly.</param>
/// <param name="EnrolledUnknown">Of those, answered "unknown" (counted as wrong in the accuracy).</param>
/// <param name="Strangers">Test faces of people the classifier does not know.</param>
/// <param name="StrangersUnknown">Of those, answered "unknown" (right).</param>
public sealed record ClassificationSummary(int Enrolled, int EnrolledCorrect, int EnrolledUnknown, int Strangers, int StrangersUnknown)
{
    /// <summary>Enrolled faces named correctly / enrolled faces (an "unknown" answer is wrong); NaN when none.</summary>
    public double Accuracy => Enrolled == 0 ? double.NaN : (double)EnrolledCorrect / Enrolled;

    /// <summary>
    /// Closed-set accuracy: enrolled faces whose nearest class is right, whatever the threshold says; NaN when none.
    /// </summary>
    public double ClosedSetAccuracy { get; init; } = double.NaN;

    /// <summary>Strangers answered "unknown" / strangers; NaN when none.</summary>
    public double StrangerRejectionRate => Strangers == 0 ? double.NaN : (double)StrangersUnknown / Strangers;

    /// <summary>Counts the outcomes of <paramref name="images"/>.</summary>
    public static ClassificationSummary From(IReadOnlyCollection<ClassifiedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var enrolled = images.Where(i => i.IsEnrolled).ToList();
        var strangers = images.Where(i => !i.IsEnrolled).ToList();
        return new ClassificationSummary(enrolled.Count, enrolled.Count(i => i.IsCorrect),
            enrolled.Count(i => !i.Prediction.IsKnown), strangers.Count, strangers.Count(i => !i.Prediction.IsKnown))
        {
            ClosedSetAccuracy = enrolled.Count == 0 ? double.NaN
                : (double)enrolled.Count(i => i.Prediction.NearestClass == i.TrueClass) / enrolled.Count,
        };
    }
}
