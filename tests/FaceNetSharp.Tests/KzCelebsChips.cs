using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests;

/// <summary>Aligned faces of kz-celebs-talgin's photos (../shared/data/faces/kz-celebs-talgin/our_dataset), for tests that embed real faces.</summary>
internal static class KzCelebsChips
{
    /// <summary>
    /// The first <paramref name="photosPerPerson"/> photos (by file name) of each of the first <paramref name="people"/>
    /// people (by folder name), MTCNN's largest face aligned for <paramref name="model"/>; a photo without a face is an
    /// error naming it.
    /// </summary>
    public static List<RgbImage> Aligned(string modelsDir, string model, int people = int.MaxValue, int photosPerPerson = 1)
    {
        var photos = Directory.GetDirectories(TestPaths.Shared("faces", "kz-celebs-talgin", "our_dataset")).Order(StringComparer.Ordinal).Take(people)
            .SelectMany(d => Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).Take(photosPerPerson)).ToList();
        using var recognizer = FaceRecognizer.Open(model, modelsDir);
        var chips = new List<RgbImage>(photos.Count);
        foreach (var p in photos)
        {
            var image = ImageLoader.Load(p);
            chips.Add(recognizer.Align(image, recognizer.Detect(image).MaxBy(f => f.Box.Area) ?? throw new InvalidOperationException($"no face in {p}")));
        }
        return chips;
    }
}
