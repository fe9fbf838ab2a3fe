using FaceNetSharp.Recognition;

namespace FaceNetSharp.Training.Data;

/// <summary>A dataset could not be used for training (too few classes or images, missing folder).</summary>
public sealed class DatasetException(string message) : Exception(message);

/// <summary>
/// facenet's training-side dataset helpers on the library's dataset type (<see cref="FaceClass"/>, read by
/// <see cref="FaceDataset.Load(string)"/>): <c>split_dataset</c> (mode SPLIT_IMAGES) and the checks before a run.
/// </summary>
internal static class TrainingSplit
{
    /// <summary>
    /// facenet <c>split_dataset(dataset, split_ratio, min_nrof_images_per_class, 'SPLIT_IMAGES')</c>: each class's
    /// paths are shuffled, the first <c>floor(n * (1 - ratio))</c> (at most n - 1) go to training, the rest to
    /// validation; a class is kept (in both) only when its training part has at least
    /// <paramref name="minImagesPerClass"/> images, as facenet's code tests it.
    /// </summary>
    public static (IReadOnlyList<FaceClass> Train, IReadOnlyList<FaceClass> Validation) Split(
        IReadOnlyList<FaceClass> dataset, double ratio, int minImagesPerClass, Random random)
    {
        var train = new List<FaceClass>();
        var val = new List<FaceClass>();
        foreach (var cls in dataset)
        {
            var paths = cls.ImagePaths.ToArray();
            random.Shuffle(paths);
            int split = (int)Math.Floor(paths.Length * (1 - ratio));
            if (split == paths.Length) split = paths.Length - 1;
            if (split >= minImagesPerClass && paths.Length - split >= 1)
            {
                train.Add(cls with { ImagePaths = paths[..split] });
                val.Add(cls with { ImagePaths = paths[split..] });
            }
        }
        return (train, val);
    }

    /// <summary>Checks that a training set can train a classifier; throws with the counts otherwise.</summary>
    public static void RequireUsable(IReadOnlyList<FaceClass> train, string source, int minClasses = 2, int minImages = 1)
    {
        var usable = train.Where(c => c.ImagePaths.Count >= minImages).ToArray();
        if (usable.Length < minClasses)
            throw new DatasetException(
                $"{source}: {usable.Length} class folder(s) with at least {minImages} image(s) each; training needs at least {minClasses} " +
                $"({train.Count} folders, {train.Sum(c => c.ImagePaths.Count)} files in all)");
    }
}
