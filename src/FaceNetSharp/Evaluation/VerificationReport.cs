namespace FaceNetSharp.Evaluation;

/// <summary>
/// Result of a face-verification evaluation, following facenet's LFW protocol (<c>lfw.evaluate</c> and
/// <c>validate_on_lfw.py</c>): k-fold accuracy, the mean ROC curve, VAL at a FAR target, AUC and EER, plus TAR at
/// fixed FARs on all pairs. A pair is predicted "same" when its distance is strictly below the threshold.
/// </summary>
/// <param name="Accuracy">Mean over folds of the test-fold accuracy at the threshold best on the training folds, in [0, 1].</param>
/// <param name="AccuracyStd">Population standard deviation (numpy <c>np.std</c>, ddof 0) of the fold accuracies.</param>
/// <param name="FoldAccuracies">Test accuracy of each fold.</param>
/// <param name="FoldThresholds">Best threshold of each fold (chosen on its training folds from <see cref="RocThresholds"/>).</param>
/// <param name="BestThreshold">Mean of <see cref="FoldThresholds"/> (facenet prints no such value; a convenience, in distance units).</param>
/// <param name="Val">Validation rate (TAR) at the FAR target: mean over folds of the test-fold TAR at the threshold interpolated on the training folds.</param>
/// <param name="ValStd">Population standard deviation of the fold VALs.</param>
/// <param name="Far">Mean over folds of the test-fold FAR at those thresholds (close to <see cref="FarTarget"/> when there are enough different pairs).</param>
/// <param name="FarTarget">The FAR target VAL was computed for (facenet: 1e-3).</param>
/// <param name="Auc">Area under the mean ROC curve by the trapezoid rule (sklearn <c>metrics.auc(fpr, tpr)</c>), in [0, 1].</param>
/// <param name="Eer">Equal error rate: the FPR x where <c>1 - x = TPR(x)</c> on the mean ROC curve, in [0, 1].</param>
/// <param name="RocThresholds">The threshold grid of the ROC curve (facenet: 0, 0.01, ..., 3.99).</param>
/// <param name="Fpr">Mean over folds of the test-fold false positive rate at each of <see cref="RocThresholds"/>.</param>
/// <param name="Tpr">Mean over folds of the test-fold true positive rate at each of <see cref="RocThresholds"/>.</param>
/// <param name="TarAtFar">
/// TAR on all pairs at FAR 1e-2, 1e-3 and 1e-4 (keys), with the exact threshold taken from the sorted different-pair
/// distances; null ("n/a") where there are fewer than 1/FAR different pairs.
/// </param>
/// <param name="PairsUsed">Number of pairs evaluated.</param>
/// <param name="SamePairs">Number of same-person pairs.</param>
/// <param name="DifferentPairs">Number of different-person pairs.</param>
/// <param name="Folds">Number of folds.</param>
public sealed record VerificationReport(
    double Accuracy,
    double AccuracyStd,
    double[] FoldAccuracies,
    double[] FoldThresholds,
    double BestThreshold,
    double Val,
    double ValStd,
    double Far,
    double FarTarget,
    double Auc,
    double Eer,
    double[] RocThresholds,
    double[] Fpr,
    double[] Tpr,
    IReadOnlyDictionary<double, double?> TarAtFar,
    int PairsUsed,
    int SamePairs,
    int DifferentPairs,
    int Folds);
