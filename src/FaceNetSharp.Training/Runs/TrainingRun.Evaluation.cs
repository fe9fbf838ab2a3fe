using System.Diagnostics;
using System.Globalization;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using FaceNetSharp.Evaluation;
using ClassifierData = FaceNetSharp.Recognition.ClassifierData;
using VectorMath = FaceNetSharp.Recognition.VectorMath;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>Evaluations during a run: the validation split, the LFW pairs, the classifier imprint, and the embeddings they need.</summary>
internal sealed partial class TrainingRun
{
    /// <summary>Cross entropy and accuracy on the validation split (eval mode, no augmentation).</summary>
    private (double Loss, double Accuracy) EvaluateValidation()
    {
        var items = valSet.SelectMany((c, label) => c.ImagePaths.Select(p => (Path: p, Label: (long)label))).ToArray();
        var prelogits = Embed([.. items.Select(i => i.Path)], normalize: false, flipped: false);
        var found = items.Where(i => prelogits.ContainsKey(i.Path)).ToArray();   // unreadable images are left out
        if (found.Length == 0) return (double.NaN, double.NaN);
        head!.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var x = tensor(found.SelectMany(i => prelogits[i.Path]).ToArray(), [found.Length, o.EmbeddingSize], device: device);
            var y = tensor(found.Select(i => i.Label).ToArray(), device: device);
            var (logits, scores) = head.Forward(x, y);
            double loss = nn.functional.cross_entropy(logits, y).item<float>();
            double accuracy = scores.argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
            return (loss, accuracy);
        }
        finally
        {
            head.train();
        }
    }

    /// <summary>facenet's evaluate() on the pairs: accuracy and VAL@FAR 1e-3 with its metric, and the best 1 - cos threshold for the card.</summary>
    private (double Accuracy, double Val, double Threshold) EvaluateLfw()
    {
        var paths = lfw!.Pairs.SelectMany(p => new[] { p.Path1, p.Path2 }).Distinct(StringComparer.Ordinal).ToArray();
        var emb = Embed(paths);
        // pairs with an unreadable image are left out, as pairs with a missing one are
        var pairs = lfw.Pairs.Where(p => emb.ContainsKey(p.Path1) && emb.ContainsKey(p.Path2)).ToArray();
        var e1 = pairs.Select(p => emb[p.Path1]).ToArray();
        var e2 = pairs.Select(p => emb[p.Path2]).ToArray();
        var same = pairs.Select(p => p.Pair.IsSame).ToArray();
        int folds = Math.Min(o.LfwNrofFolds, same.Length);
        var report = LfwEvaluation.Evaluate(e1, e2, same, folds,
            o.LfwDistanceMetric == 1 ? DistanceMetric.Cosine : DistanceMetric.SquaredEuclidean, o.LfwSubtractMean);
        // the card's threshold is for what the exported model outputs: the plain embedding, the first EmbeddingSize
        // values even when --lfw-use-flipped-images concatenated the mirror image's embedding after it
        int d = o.EmbeddingSize;
        var cosine = e1.Zip(e2, (a, b) => 1.0 - TensorPrimitives.CosineSimilarity(a.AsSpan(0, d), b.AsSpan(0, d))).ToArray();
        var card = LfwEvaluation.Evaluate(cosine, same, folds);
        return (report.Accuracy, report.Val, card.BestThreshold);
    }

    /// <summary>Starts the classifier from the class means of the network's embeddings of the training images (<see cref="ClassifierHead.Imprint"/>).</summary>
    private void ImprintClassifier()
    {
        var watch = Stopwatch.StartNew();
        int d = o.EmbeddingSize;
        var vectors = Embed([.. trainSet.SelectMany(c => c.ImagePaths)], normalize: false, flipped: false);
        var unitRows = new List<float>();
        var classOfRow = new List<int>();
        var raw = new float[trainSet.Count * d];
        for (int c = 0; c < trainSet.Count; c++)
        {
            var mean = raw.AsSpan(c * d, d);
            int n = 0;
            foreach (var p in trainSet[c].ImagePaths)
            {
                if (!vectors.TryGetValue(p, out var v)) continue;
                unitRows.AddRange(VectorMath.Normalized(v, d, p));
                classOfRow.Add(c);
                TensorPrimitives.Add(mean, v, mean);
                n++;
            }
            if (n == 0) throw new DatasetException($"{o.DataDir}: none of the images of class {trainSet[c].Name} could be read");
            TensorPrimitives.Divide(mean, n, mean);
        }
        // the classifiers' own class centres: each class's mean of unit rows, re-normalised
        var unit = ClassifierData.Centres(trainSet.Count, [.. unitRows], [.. classOfRow], d);
        using (var scope = NewDisposeScope())
            head!.Imprint(tensor(unit, [trainSet.Count, d], device: device), tensor(raw, [trainSet.Count, d], device: device));
        log?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Classifier imprinted with the class means of {vectors.Count} training embeddings ({watch.Elapsed.TotalSeconds:F1} s)"));
    }

    /// <summary>
    /// Embeddings of the files (eval mode), L2-normalised unless <paramref name="normalize"/> is false; with
    /// <paramref name="flipped"/> (--lfw-use-flipped-images) the embedding of the mirrored image is concatenated, as facenet does.
    /// </summary>
    private Dictionary<string, float[]> Embed(IReadOnlyList<string> paths, bool normalize = true, bool? flipped = null)
    {
        net.eval();
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        int per = 3 * o.ImageSize * o.ImageSize;
        for (int b = 0; b < paths.Count; b += o.LfwBatchSize)
        {
            var chunk = paths.Skip(b).Take(o.LfwBatchSize).ToArray();
            var pixels = new float[chunk.Length * per];
            var good = new List<string>();
            foreach (var p in chunk)
                if (stream.TryLoad(p, pixels.AsSpan(good.Count * per, per), augment: false)) good.Add(p);
            int n = good.Count;
            if (n == 0) continue;
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var x = Input(pixels.AsSpan(0, n * per).ToArray(), n);
            Tensor Vectors(Tensor input) => normalize ? EmbeddingNetwork.L2Normalize(net.forward(input)) : net.forward(input);
            var e = Vectors(x);
            if (flipped ?? o.LfwUseFlippedImages)
                e = cat([e, Vectors(x.flip(3))], 1);
            var data = e.cpu().data<float>().ToArray();
            int d = (int)e.shape[1];
            for (int i = 0; i < n; i++) result[good[i]] = data.AsSpan(i * d, d).ToArray();
        }
        net.train();
        return result;
    }
}
