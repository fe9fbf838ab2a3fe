namespace FaceNetSharp.Training.Runs;

/// <summary>What one epoch did.</summary>
public sealed record EpochResult(int Epoch, long GlobalStep, double Loss, double Accuracy, double LearningRate, double ImagesPerSecond,
    double Seconds, double? ValidationLoss, double? ValidationAccuracy, double? LfwAccuracy, double? LfwThreshold);

/// <summary>Where an epoch is, reported after every batch (batch 0: the epoch starts).</summary>
/// <param name="ModelDirectory">The run's models folder (what <c>--resume</c> takes).</param>
/// <param name="Epoch">The epoch running (1-based).</param>
/// <param name="MaxEpochs">The run's last epoch.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches in an epoch.</param>
/// <param name="Loss">Mean loss of the epoch's batches so far.</param>
/// <param name="Accuracy">Mean training accuracy so far (softmax: of the classifier; triplet: positive closer than negative).</param>
/// <param name="ImagesPerSecond">Training images per second in this epoch so far.</param>
public sealed record TrainingProgress(string ModelDirectory, int Epoch, int MaxEpochs, int Batch, int Batches, double Loss, double Accuracy,
    double ImagesPerSecond);

/// <summary>What a run produced.</summary>
public sealed record TrainingResult(string RunName, string ModelDirectory, string LogDirectory, string OnnxPath,
    IReadOnlyList<EpochResult> Epochs, int UnreadableImages, long PeakWorkingSetBytes);
