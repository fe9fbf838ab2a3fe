namespace FaceNetSharp.Training.Data;

/// <summary>One identity: its name (the folder name) and its image paths (facenet's <c>ImageClass</c>).</summary>
public sealed record ImageClass(string Name, IReadOnlyList<string> ImagePaths);

/// <summary>A dataset could not be used for training (too few classes or images, missing folder).</summary>
public sealed class DatasetException(string message) : Exception(message);

/// <summary>facenet's dataset helpers: <c>get_dataset</c> and <c>split_dataset</c> (mode SPLIT_IMAGES).</summary>
public static class FaceDataset
{
    /// <summary>
    /// A folder of class folders (facenet <c>get_dataset</c>), read by the library's
    /// <see cref="FaceNetSharp.Recognition.FaceDataset.Load(string)"/>: classes are the sub-folders in ordinal order, each holding
    /// its files in ordinal order, hidden files and folders (a leading '.') left out; files that turn out not to be
    /// images are skipped (and counted) when they are read.
    /// </summary>
    /// <exception cref="DatasetException">The folder does not exist.</exception>
    public static IReadOnlyList<ImageClass> Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DatasetException($"data folder '{directory}' does not exist");
        return [.. FaceNetSharp.Recognition.FaceDataset.Load(directory).Select(c => new ImageClass(c.Name, c.ImagePaths))];
    }

    /// <summary>
    /// facenet <c>split_dataset(dataset, split_ratio, min_nrof_images_per_class, 'SPLIT_IMAGES')</c>: each class's
    /// paths are shuffled, the first <c>floor(n * (1 - ratio))</c> (at most n - 1) go to training, the rest to
    /// validation; a class is kept (in both) only when its training part has at least
    /// <paramref name="minImagesPerClass"/> images, as facenet's code tests it.
    /// </summary>
    public static (IReadOnlyList<ImageClass> Train, IReadOnlyList<ImageClass> Validation) Split(
        IReadOnlyList<ImageClass> dataset, double ratio, int minImagesPerClass, Random random)
    {
        var train = new List<ImageClass>();
        var val = new List<ImageClass>();
        foreach (var cls in dataset)
        {
            var paths = cls.ImagePaths.ToArray();
            random.Shuffle(paths);
            int split = (int)Math.Floor(paths.Length * (1 - ratio));
            if (split == paths.Length) split = paths.Length - 1;
            if (split >= minImagesPerClass && paths.Length - split >= 1)
            {
                train.Add(new ImageClass(cls.Name, paths[..split]));
                val.Add(new ImageClass(cls.Name, paths[split..]));
            }
        }
        return (train, val);
    }

    /// <summary>Checks that a training set can train a classifier; throws with the counts otherwise.</summary>
    public static void RequireUsable(IReadOnlyList<ImageClass> train, string source, int minClasses = 2, int minImages = 1)
    {
        var usable = train.Where(c => c.ImagePaths.Count >= minImages).ToArray();
        if (usable.Length < minClasses)
            throw new DatasetException(
                $"{source}: {usable.Length} class folder(s) with at least {minImages} image(s) each; training needs at least {minClasses} " +
                $"({train.Count} folders, {train.Sum(c => c.ImagePaths.Count)} files in all)");
    }
}
