using FaceNetSharp.Imaging;

namespace FaceNetSharp.Embedding;

/// <summary>
/// The one rule for files given as aligned chips (<see cref="ImageFileEmbedderOptions.Aligned"/>,
/// <see cref="Recognition.FaceInput.Aligned"/>): a chip is embedded only at the model's input size. Resizing a chip of
/// another size would embed a face the model was not trained on without a word: a 160x160 facenet crop (box and
/// margin) is not on the ArcFace template, and a non-square image would be stretched.
/// </summary>
internal static class AlignedChips
{
    /// <summary>Why <paramref name="image"/> cannot be embedded as a chip of <paramref name="info"/>'s model, naming the file; null when it can.</summary>
    public static string? SizeError(string path, RgbImage image, EmbedderInfo info) =>
        image.Width == info.InputSize && image.Height == info.InputSize ? null
            : $"{path}: the chip is {image.Width}x{image.Height}; {info.Name} takes {info.InputSize}x{info.InputSize} chips aligned to the {info.Template} template";
}
