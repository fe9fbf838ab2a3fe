using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Export;

namespace FaceNetSharp.Training.Runs;

/// <summary>
/// Loads batches of training images: an endless sequence of shuffled passes over (path, label) pairs (facenet's
/// <c>range_input_producer(shuffle=True)</c>). Files that cannot be read are skipped, remembered and counted, and the
/// batch is filled from the next ones. Not thread-safe.
/// </summary>
internal sealed class ImageStream(IReadOnlyList<FaceClass> classes, int size, ImageStandardization standardization, Augmentation augmentation)
{
    private readonly (string Path, int Label)[] items =
        [.. classes.SelectMany((c, label) => c.ImagePaths.Select(p => (p, label)))];
    private readonly HashSet<string> unreadable = new(StringComparer.Ordinal);
    private int[] order = [];
    private int position;
    private Random random = new(0);

    /// <summary>Files skipped because they could not be decoded, with the reason.</summary>
    public List<string> Failures { get; } = [];

    public int UnreadableCount => unreadable.Count;

    public int Count => items.Length;

    /// <summary>Restarts with a fresh permutation drawn from <paramref name="seed"/> (called at every epoch so that a resumed run repeats it).</summary>
    public void Restart(int seed)
    {
        random = new Random(seed);
        order = [];
        position = 0;
    }

    /// <summary>Fills up to <paramref name="count"/> images into <paramref name="pixels"/> ([count, 3, S, S]); returns the labels.</summary>
    public long[] Next(int count, float[] pixels)
    {
        var labels = new long[count];
        int per = 3 * size * size;
        for (int i = 0; i < count;)
        {
            if (unreadable.Count == items.Length) throw new DatasetException("none of the training images could be read");
            if (position >= order.Length)
            {
                order = [.. Enumerable.Range(0, items.Length)];
                random.Shuffle(order);
                position = 0;
            }
            var (path, label) = items[order[position++]];
            if (!TryLoad(path, pixels.AsSpan(i * per, per))) continue;
            labels[i++] = label;
        }
        return labels;
    }

    /// <summary>Loads one image into <paramref name="destination"/>; false (and counted) when unreadable.</summary>
    public bool TryLoad(string path, Span<float> destination, bool augment = true)
    {
        if (unreadable.Contains(path)) return false;
        try
        {
            FacePreprocessing.Fill(ImageLoader.Load(path), size, standardization, augment ? augmentation : Augmentation.None, random, destination);
            return true;
        }
        catch (ImageLoadException e)
        {
            unreadable.Add(path);
            Failures.Add(e.Message);
            return false;
        }
    }
}
