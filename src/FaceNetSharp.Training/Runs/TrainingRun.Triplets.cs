using FaceNetSharp.Training.Losses;
using FaceNetSharp.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Runs;

/// <summary>Triplet-loss batches (train_tripletloss.py): sampling people, selecting triplets, training on them.</summary>
internal sealed partial class TrainingRun
{
    /// <summary>
    /// train_tripletloss.py: sample people (people_per_batch x up to images_per_person), embed them (training mode,
    /// no gradient, as facenet runs its graph with phase_train True), select triplets, then train on them in batches
    /// of batch_size (a multiple of 3). Yields (loss, fraction of triplets with positive closer than negative, images)
    /// for each training batch, at most <paramref name="maxBatches"/>.
    /// </summary>
    private IEnumerable<(double, double, int)> TripletSteps(int maxBatches)
    {
        var (paths, perClass) = SamplePeople();
        int per = 3 * o.ImageSize * o.ImageSize;
        var pixels = new float[paths.Count * per];
        var ok = new bool[paths.Count];
        for (int i = 0; i < paths.Count; i++) ok[i] = stream.TryLoad(paths[i], pixels.AsSpan(i * per, per));
        // unreadable images: drop their rows and shrink their person's count
        var keep = Enumerable.Range(0, paths.Count).Where(i => ok[i]).ToArray();
        var counts = new List<int>();
        int start = 0;
        foreach (var c in perClass) { counts.Add(Enumerable.Range(start, c).Count(i => ok[i])); start += c; }
        var embeddings = new float[keep.Length * o.EmbeddingSize];
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            for (int b = 0; b < keep.Length; b += o.BatchSize)
            {
                var idx = keep.Skip(b).Take(o.BatchSize).ToArray();
                var batch = new float[idx.Length * per];
                for (int j = 0; j < idx.Length; j++) pixels.AsSpan(idx[j] * per, per).CopyTo(batch.AsSpan(j * per));
                using var inner = NewDisposeScope();
                var e = EmbeddingNetwork.L2Normalize(net.forward(Input(batch, idx.Length))).cpu();
                e.data<float>().ToArray().CopyTo(embeddings.AsSpan(b * o.EmbeddingSize, idx.Length * o.EmbeddingSize));
            }
        }
        var selection = TripletSelection.Select(embeddings, o.EmbeddingSize, counts, o.Alpha, new Random(TrainingSeed.Of(o.Seed, globalStep)));
        if (selection.Triplets.Count == 0)
        {
            log?.Report("no triplet violates the margin in this sample; sampling again");
            yield return (0, 1, 0);
            yield break;
        }
        int perBatch = o.BatchSize / 3;
        for (int t = 0; t < selection.Triplets.Count && maxBatches-- > 0; t += perBatch)
        {
            var chunk = selection.Triplets.Skip(t).Take(perBatch).ToArray();
            double loss, acc;
            using (var scope = NewDisposeScope())
            {
                var batch = new float[chunk.Length * 3 * per];
                for (int j = 0; j < chunk.Length; j++)
                {
                    // a0, p0, n0, a1, ... (itertools.chain(*triplets))
                    pixels.AsSpan(keep[chunk[j].Anchor] * per, per).CopyTo(batch.AsSpan((3 * j) * per));
                    pixels.AsSpan(keep[chunk[j].Positive] * per, per).CopyTo(batch.AsSpan((3 * j + 1) * per));
                    pixels.AsSpan(keep[chunk[j].Negative] * per, per).CopyTo(batch.AsSpan((3 * j + 2) * per));
                }
                var e = EmbeddingNetwork.L2Normalize(net.forward(Input(batch, chunk.Length * 3)));
                var (dp, dn) = TripletLoss.InterleavedDistances(e);
                var tl = TripletLoss.FromDistances(dp, dn, o.Alpha);
                var regularization = Regularization();
                var total = tl + regularization;
                optimizer.zero_grad();
                total.backward();
                optimizer.step();
                globalStep++;
                averages?.Update(globalStep);
                using (no_grad()) acc = dp.lt(dn).to_type(ScalarType.Float32).mean().item<float>();
                loss = total.item<float>();
                board.Scalars(globalStep, ("loss", (float)loss), ("triplet_loss", tl.item<float>()), ("triplet_accuracy", (float)acc),
                    ("learning_rate", (float)optimizer.ParamGroups.First().LearningRate), ("triplets", selection.Triplets.Count),
                    ("regularization", regularization.item<float>()));
            }
            yield return (loss, acc, chunk.Length * 3);
        }
    }

    /// <summary>train_tripletloss.sample_people: classes in random order, up to images_per_person random images each, until people_per_batch x images_per_person.</summary>
    private (List<string> Paths, List<int> PerClass) SamplePeople()
    {
        var random = new Random(TrainingSeed.Of(o.Seed, globalStep, 7));
        int target = o.PeoplePerBatch * o.ImagesPerPerson;
        var classes = Enumerable.Range(0, trainSet.Count).Where(i => trainSet[i].ImagePaths.Count >= 2).ToArray();
        random.Shuffle(classes);
        var paths = new List<string>();
        var perClass = new List<int>();
        foreach (var c in classes)
        {
            if (paths.Count >= target) break;
            var imgs = trainSet[c].ImagePaths.ToArray();
            random.Shuffle(imgs);
            int take = Math.Min(Math.Min(imgs.Length, o.ImagesPerPerson), target - paths.Count);
            if (take < 2) break;
            paths.AddRange(imgs.Take(take));
            perClass.Add(take);
        }
        return (paths, perClass);
    }
}
