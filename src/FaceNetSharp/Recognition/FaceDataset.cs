namespace FaceNetSharp.Recognition;

/// <summary>One person of a dataset folder and their image files.</summary>
/// <param name="Name">The person: the class folder's name.</param>
/// <param name="ImagePaths">The person's image files.</param>
public sealed record FaceClass(string Name, IReadOnlyList<string> ImagePaths);

/// <summary>
/// A folder of people as facenet reads one (<c>facenet.get_dataset</c>): one subfolder per person, named after them,
/// holding that person's images (<c>Name/Name_0001.jpg</c>); and facenet classifier.py's train/test split.
/// </summary>
public static class FaceDataset
{
    /// <summary>
    /// The classes of <paramref name="directory"/>: its subfolders in ordinal name order (facenet sorts the class
    /// names), each with its files in ordinal order (facenet keeps <c>os.listdir</c> order, which is unspecified, so
    /// this sorts for reproducible splits). Hidden files and folders (a leading '.') are skipped; files that are not
    /// images stay in the list and fail when loaded, by name.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">A class folder cannot be listed (the message names it and the cause).</exception>
    public static IReadOnlyList<FaceClass> Load(string directory) => Load(directory, onUnreadable: null);

    /// <summary>
    /// As <see cref="Load(string)"/>, but a class folder that cannot be listed (no permission, removed meanwhile, an
    /// I/O error) is left out and reported to <paramref name="onUnreadable"/> with a sentence naming the folder and
    /// the cause, so that one bad folder does not stop a whole dataset. Null: it is thrown as an <see cref="IOException"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<FaceClass> Load(string directory, Action<string>? onUnreadable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"dataset folder not found: {directory}");
        var result = new List<FaceClass>();
        foreach (var dir in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('.')) continue;
            List<string> files;
            try
            {
                files = Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var message = $"cannot list the class folder {dir}: {e.Message}";
                if (onUnreadable is null) throw new IOException(message, e);
                onUnreadable(message);
                continue;
            }
            result.Add(new FaceClass(name, files));
        }
        return result;
    }

    /// <summary>The classes with at least <paramref name="minImagesPerClass"/> images.</summary>
    public static IReadOnlyList<FaceClass> WithAtLeast(IReadOnlyList<FaceClass> classes, int minImagesPerClass) =>
        classes.Where(c => c.ImagePaths.Count >= minImagesPerClass).ToList();

    /// <summary>
    /// facenet classifier.py's <c>split_dataset</c>: drops classes with fewer than <paramref name="minImagesPerClass"/>
    /// images, shuffles each remaining class's images and gives the first <paramref name="trainImagesPerClass"/> to
    /// training and the rest to testing. facenet shuffles with numpy seeded by <c>--seed</c> (666); this uses
    /// <see cref="Random"/> with the seed, so the split is reproducible here but not the same images as facenet's.
    /// Training and prediction with the same seed and counts get complementary halves of the same split.
    /// </summary>
    public static (IReadOnlyList<FaceClass> Train, IReadOnlyList<FaceClass> Test) Split(IReadOnlyList<FaceClass> classes,
        int minImagesPerClass, int trainImagesPerClass, int seed)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(trainImagesPerClass);
        var random = new Random(seed);
        var train = new List<FaceClass>();
        var test = new List<FaceClass>();
        foreach (var c in classes)
        {
            if (c.ImagePaths.Count < minImagesPerClass) continue;
            var paths = c.ImagePaths.ToArray();
            random.Shuffle(paths);
            int n = Math.Min(trainImagesPerClass, paths.Length);
            train.Add(c with { ImagePaths = paths[..n] });
            test.Add(c with { ImagePaths = paths[n..] });
        }
        return (train, test);
    }

    /// <summary>
    /// Picks <paramref name="count"/> classes at random (seeded) to hold out of training entirely: for an open-set
    /// test, their faces are strangers to the classifier. Both lists keep the input order.
    /// </summary>
    public static (IReadOnlyList<FaceClass> Kept, IReadOnlyList<FaceClass> HeldOut) HoldOut(IReadOnlyList<FaceClass> classes, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= classes.Count && count > 0)
            throw new ArgumentException($"cannot hold out {count} of {classes.Count} classes: at least one must be kept for training");
        var order = Enumerable.Range(0, classes.Count).ToArray();
        // A generator apart from the split's, so holding out does not change which images the split picks.
        new Random(unchecked(seed * 31 + 7)).Shuffle(order);
        var held = order.Take(count).ToHashSet();
        return (classes.Where((_, i) => !held.Contains(i)).ToList(), classes.Where((_, i) => held.Contains(i)).ToList());
    }
}
