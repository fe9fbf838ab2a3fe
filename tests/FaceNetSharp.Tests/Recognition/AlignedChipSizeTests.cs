using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Recognition;

/// <summary>
/// Issue 12, the design review: files given as aligned chips get one answer whichever API reads them. A chip at the
/// model's input size is embedded as it is; a chip of another size is refused with its file, its size and the model's
/// (PhotoEmbedding used to resize it silently, ImageFileEmbedder refused it), and the batch goes on.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class AlignedChipSizeTests(InstalledModelsFixture models) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [SkippableFact]
    public void A_chip_of_another_size_is_refused_by_both_and_a_right_one_embedded_alike()
    {
        var source = TestPaths.Shared("faces", "kz-celebs-talgin", "our_dataset", "Aisaule_Bakhytbek", "Aisaule_Bakhytbek_0006.png");
        var store = models.Require();
        using var recognizer = FaceRecognizer.Open("mobilefacenet", store.Directory);
        var chip = ImageLoader.Load(source);
        Assert.Equal(112, chip.Width);
        var big = _tmp.Combine("big.png");
        ImageWriter.Save(ImageResize.Resize(chip, PixelRect.Of(chip), 160, 160, ResizeKernel.Area), big);

        var photos = PhotoEmbedding.EmbedMany(recognizer, [source, big], FaceInput.Aligned, largestOnly: false, workers: 1);
        var files = new ImageFileEmbedder(recognizer, new ImageFileEmbedderOptions { Aligned = true }).Embed([source, big]);

        Assert.Equal(PhotoOutcome.Embedded, photos[0].Outcome);
        Assert.Equal(FileEmbeddingOutcome.Embedded, files[0].Outcome);
        Assert.Equal(photos[0].Faces[0].Vector, files[0].Vector!);

        Assert.Equal(PhotoOutcome.Failed, photos[1].Outcome);
        Assert.Empty(photos[1].Faces);
        Assert.Equal(FileEmbeddingOutcome.WrongSize, files[1].Outcome);
        Assert.Equal(files[1].Error, photos[1].Error);
        Assert.Equal($"{big}: the chip is 160x160; {recognizer.Model.Name} takes 112x112 chips aligned to the {recognizer.Model.Template} template", photos[1].Error);
    }
}
