using System.Diagnostics;
using System.Globalization;
using FaceNetSharp.Training.Export;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>The epoch loop: learning rate, softmax batches, the end-of-epoch evaluations, checkpoints and the final export.</summary>
internal sealed partial class TrainingRun
{
    /// <summary>facenet: rate from the flag or the schedule, then <c>exponential_decay(staircase=True)</c> on the global step.</summary>
    private double? LearningRateAt(int epoch)
    {
        double baseRate = o.LearningRate;
        if (schedule is not null && !schedule.TryGetRate(epoch, out baseRate)) return null;
        long decaySteps = (long)o.LearningRateDecayEpochs * o.EpochSize;
        return baseRate * Math.Pow(o.LearningRateDecayFactor, decaySteps > 0 ? globalStep / decaySteps : 0);
    }

    public TrainingResult Train(CancellationToken cancellation, IProgress<TrainingProgress>? progress = null)
    {
        var epochs = new List<EpochResult>();
        double? threshold = null;
        string thresholdSource = "";
        for (int epoch = startEpoch; epoch <= o.MaxNrofEpochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            stream.Restart(TrainingSeed.Of(o.Seed, epoch));
            var (result, stop) = RunEpoch(epoch, cancellation, progress);
            if (stop) { log?.Report($"The learning-rate schedule stops training at epoch {epoch}"); break; }
            var r = result!;
            RecalibrateBatchNorm(epoch == startEpoch);
            var extra = new List<string>();
            using (averages is null ? null : AveragedView())
            {
                if (valSet.Count > 0 && head is not null && (epoch % o.ValidateEveryNEpochs == 0 || epoch == o.MaxNrofEpochs))
                {
                    var (vl, va) = EvaluateValidation();
                    r = r with { ValidationLoss = vl, ValidationAccuracy = va };
                    board.Scalars(globalStep, ("val/loss", (float)vl), ("val/accuracy", (float)va));
                }
                if (lfw is not null)
                {
                    var (acc, val, thr) = EvaluateLfw();
                    r = r with { LfwAccuracy = acc, LfwThreshold = thr };
                    threshold = thr;
                    thresholdSource = $"facenet train: best cosine-distance threshold of the {o.LfwNrofFolds}-fold verification on {o.LfwPairs} after epoch {epoch}"
                        + (averages is null ? "" : " (moving averages of the weights)");
                    board.Scalars(globalStep, ("lfw/accuracy", (float)acc), ("lfw/val_rate", (float)val));
                }
                if (averages is not null)
                {
                    // the averaged network with its own batch-norm statistics, moved into the checkpoint below
                    var staging = Directory.CreateDirectory(Path.Combine(modelDir, $".averaged-{Environment.ProcessId}")).FullName;
                    extra.Add(Path.Combine(staging, Checkpoint.AveragedModelFile));
                    net.save(extra[^1]);
                    if (head is not null)
                    {
                        extra.Add(Path.Combine(staging, Checkpoint.AveragedHeadFile));
                        head.save(extra[^1]);
                    }
                }
            }
            board.Scalars(globalStep, ("time/epoch", (float)r.Seconds), ("epoch/loss", (float)r.Loss), ("epoch/accuracy", (float)r.Accuracy),
                ("epoch/images_per_second", (float)r.ImagesPerSecond));
            Checkpoint.Save(modelDir, new CheckpointState(epoch, globalStep, net is MobileFaceNet { Options.FoldedBatchNorm: true }), net, head, optimizer, extra);
            if (extra.Count > 0) Directory.Delete(Path.GetDirectoryName(extra[0])!, recursive: true);
            epochs.Add(r);
            log?.Report(Describe(r) + (stream.UnreadableCount > 0 ? $", {stream.UnreadableCount} unreadable image(s) skipped" : ""));
        }
        if (threshold is null)
            thresholdSource = "uncalibrated default (training ran without --lfw-dir): calibrate with 'facenet validate'";
        var onnx = Path.Combine(modelDir, runName + ".onnx");
        if (averages is not null && Checkpoint.Latest(modelDir) is { } last)
            last.RestoreAveraged(net, null);   // the averaged network of the last epoch, with the statistics estimated for it then
        if (device.type != DeviceType.CPU) net.to(CPU);                   // the exporter reads the weights on the CPU
        WriteOnnx(net, o, runName, onnx, $" ({trainSet.Count} classes)", threshold ?? OnnxEmbeddingExporter.UncalibratedThreshold, thresholdSource);
        log?.Report($"Exported {onnx}");
        foreach (var f in stream.Failures.Take(20)) log?.Report("skipped: " + f);
        return new TrainingResult(runName, modelDir, logDir, onnx, epochs, stream.UnreadableCount, PeakWorkingSet());
    }

    /// <summary>The process's peak resident memory so far, as the operating system counts it (Linux: VmHWM).</summary>
    private static long PeakWorkingSet()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    /// <summary>Writes the eval-mode network as ONNX with its card, named after the file; <paramref name="detail"/> ends the card's description.</summary>
    internal static void WriteOnnx(EmbeddingNetwork net, TrainingOptions o, string runName, string path, string detail, double threshold, string thresholdSource)
    {
        net.eval();
        OnnxEmbeddingExporter.Write(net, o.ImageSize, path, new EmbeddingExportInfo(Path.GetFileNameWithoutExtension(path),
            $"{o.ModelDef} trained by 'facenet train {o.Mode.ToString().ToLowerInvariant()}' on {o.DataDir}{detail}",
            "facenet train", runName, "as the training data", threshold, thresholdSource, o.Standardization));
    }

    /// <summary>Puts the moving averages into the weights, with batch-norm statistics re-estimated for them, until disposed.</summary>
    private IDisposable AveragedView()
    {
        var handle = averages!.Apply(head is null ? [net] : [net, head]);
        RecalibrateBatchNorm(false);
        return handle;
    }

    /// <summary>[n, 3, S, S] images on the training device.</summary>
    private Tensor Input(float[] pixels, int n)
    {
        var x = tensor(pixels, [n, 3, o.ImageSize, o.ImageSize]);
        if (device.type == DeviceType.CPU) return x;
        using (x) return x.to(device);
    }

    /// <summary>Re-estimates the batch-norm statistics over training batches (see <see cref="BatchNormStatistics"/>).</summary>
    private void RecalibrateBatchNorm(bool report)
    {
        if (o.BatchNormRecalibrationBatches <= 0) return;
        int count = Math.Min(o.BatchNormRecalibrationBatches, (stream.Count + o.BatchSize - 1) / o.BatchSize);
        var watch = Stopwatch.StartNew();
        // no batch-norm layers (the folded MobileFaceNet): 0, and the lazy batches are never loaded
        if (BatchNormStatistics.Reestimate(net, TrainingBatches(count)) > 0 && report)
            log?.Report(string.Create(CultureInfo.InvariantCulture,
                $"Batch-norm statistics re-estimated over {count} training batches after each epoch ({watch.Elapsed.TotalSeconds:F1} s)"));
    }

    private IEnumerable<Tensor> TrainingBatches(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[o.BatchSize * 3 * o.ImageSize * o.ImageSize];
            stream.Next(o.BatchSize, pixels);
            yield return Input(pixels, o.BatchSize);
        }
    }

    internal static string Describe(EpochResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var s = string.Create(c, $"Epoch {r.Epoch}: loss {r.Loss:F4}, accuracy {r.Accuracy:F3}, lr {r.LearningRate:G4}, {r.ImagesPerSecond:F1} images/s, {r.Seconds:F1} s");
        if (r.ValidationAccuracy is { } va) s += string.Create(c, $", validation loss {r.ValidationLoss:F4} accuracy {va:F3}");
        // the k-fold accuracy of facenet's validate_on_lfw.py: the share of the pairs file's same/different pairs judged
        // right, each fold at the cosine-distance threshold that is best on the other folds (their mean shown)
        if (r.LfwAccuracy is { } la)
            s += string.Create(c, $", pairs verification: accuracy {la:F3} (share of same/different pairs judged right, cross-validated) at cosine distance < {r.LfwThreshold:F3}");
        return s;
    }

    private (EpochResult? Result, bool Stop) RunEpoch(int epoch, CancellationToken cancellation, IProgress<TrainingProgress>? progress)
    {
        if (LearningRateAt(epoch) is not { } lr0) return (null, true);
        net.train();
        head?.train();
        var watch = Stopwatch.StartNew();
        double lossSum = 0, accSum = 0, lr = lr0;
        int batches = 0;
        long images = 0;
        progress?.Report(new TrainingProgress(modelDir, epoch, o.MaxNrofEpochs, 0, o.EpochSize, double.NaN, double.NaN, 0));
        while (batches < o.EpochSize)
        {
            cancellation.ThrowIfCancellationRequested();
            lr = LearningRateAt(epoch) ?? lr;
            foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
            if (o.Mode == TrainingMode.Softmax)
            {
                var (loss, acc, n) = SoftmaxStep();
                lossSum += loss; accSum += acc; images += n; batches++;
            }
            else
            {
                foreach (var (loss, acc, n) in TripletSteps(o.EpochSize - batches))
                {
                    lossSum += loss; accSum += acc; images += n; batches++;
                }
            }
            progress?.Report(new TrainingProgress(modelDir, epoch, o.MaxNrofEpochs, batches, o.EpochSize, lossSum / batches, accSum / batches,
                images / watch.Elapsed.TotalSeconds));
        }
        double seconds = watch.Elapsed.TotalSeconds;
        return (new EpochResult(epoch, globalStep, lossSum / batches, accSum / batches, lr, images / seconds, seconds, null, null, null, null), false);
    }

    /// <summary>One softmax batch: facenet's total loss = cross entropy + regularisation + center loss + prelogits norm loss.</summary>
    private (double Loss, double Accuracy, int Images) SoftmaxStep()
    {
        using var scope = NewDisposeScope();
        var pixels = new float[o.BatchSize * 3 * o.ImageSize * o.ImageSize];
        var labels = stream.Next(o.BatchSize, pixels);
        var x = Input(pixels, o.BatchSize);
        var y = tensor(labels, device: device);
        var prelogits = net.forward(x);                                   // N x E
        var (logits, scores) = head!.Forward(prelogits, y);              // N x C
        var xent = nn.functional.cross_entropy(logits, y);
        var regularization = Regularization();
        var total = xent + regularization;
        var extra = new List<(string, float)>();
        if (o.WeightDecay > 0) extra.Add(("regularization", regularization.item<float>()));
        if (o.CenterLossFactor > 0)
        {
            var center = head.CenterLoss(prelogits, y);
            total = total + center * o.CenterLossFactor;
            extra.Add(("center_loss", center.item<float>()));
        }
        if (o.PrelogitsNormLossFactor > 0)
        {
            var norm = linalg.vector_norm(prelogits.abs() + PrelogitsNormEps, o.PrelogitsNormP, [1]).mean();
            total = total + norm * o.PrelogitsNormLossFactor;
            extra.Add(("prelogits_norm", norm.item<float>()));
        }
        optimizer.zero_grad();
        total.backward();
        optimizer.step();
        globalStep++;
        averages?.Update(globalStep);
        double acc;
        using (no_grad()) acc = scores.argmax(1).eq(y).to_type(ScalarType.Float32).mean().item<float>();
        float lossValue = total.item<float>();
        board.Scalars(globalStep, [("loss", lossValue), ("cross_entropy", xent.item<float>()), ("accuracy", (float)acc),
            ("learning_rate", (float)optimizer.ParamGroups.First().LearningRate), .. extra]);
        return (lossValue, acc, o.BatchSize);
    }

    /// <summary>slim l2_regularizer: weight_decay * sum(w^2) / 2 over conv and fully connected weights.</summary>
    private Tensor Regularization()
    {
        if (o.WeightDecay <= 0) return tensor(0f, device: device);
        using var scope = NewDisposeScope();
        Tensor sum = tensor(0f, device: device);
        foreach (var p in decayed) sum = sum + p.square().sum();
        return (sum * (o.WeightDecay / 2)).MoveToOuterDisposeScope();
    }
}
