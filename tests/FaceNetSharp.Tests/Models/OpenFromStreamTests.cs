using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// An app that ships its models as resources opens them from streams plus a card (issue 12): the same faces and
/// vectors as from the installed files, and bytes that differ from the card refused without a CLI command in the error.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class OpenFromStreamTests(InstalledModelsFixture fx)
{
    private static string Hopkins(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");

    [SkippableFact]
    public void Streams_and_a_card_give_what_the_files_give()
    {
        var store = fx.Require();
        var photo = Hopkins(1);
        Skip.IfNot(File.Exists(photo), $"{photo} is absent (../shared/data)");
        var image = ImageLoader.Load(photo);

        using var fromFiles = new MtcnnDetector(store.PathOf(ModelNames.MtcnnPNet), store.PathOf(ModelNames.MtcnnRNet), store.PathOf(ModelNames.MtcnnONet));
        IReadOnlyList<DetectedFace> expected = fromFiles.Detect(image), actual;
        using (Stream p = File.OpenRead(store.PathOf(ModelNames.MtcnnPNet)), r = File.OpenRead(store.PathOf(ModelNames.MtcnnRNet)),
               o = File.OpenRead(store.PathOf(ModelNames.MtcnnONet)))
        using (var fromStreams = new MtcnnDetector(p, r, o))
            actual = fromStreams.Detect(image);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(f => f.Box), actual.Select(f => f.Box));

        var aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Similarity, Template = AlignmentTemplate.ArcFace112, ImageSize = 112 });
        var chip = aligner.Align(image, expected[0]);
        using var embedderFromFile = Embedders.Open(store, "mobilefacenet");
        ModelCard card;
        using (var cardStream = File.OpenRead(store.CardPathOf(ModelNames.MobileFaceNet)))
            card = ModelCard.Read(cardStream, "mobilefacenet.card.json");
        using var onnx = File.OpenRead(store.PathOf(ModelNames.MobileFaceNet));
        using var embedderFromStream = Embedders.Open(onnx, card);
        Assert.Equal(embedderFromFile.Info.Threshold, embedderFromStream.Info.Threshold);
        Assert.Equal(embedderFromFile.Embed([chip])[0], embedderFromStream.Embed([chip])[0]);
    }

    [SkippableFact]
    public void A_stream_that_differs_from_its_card_is_refused_naming_the_model()
    {
        var store = fx.Require();
        var card = store.ReadCard(ModelNames.MobileFaceNet)!;
        var bytes = File.ReadAllBytes(store.PathOf(ModelNames.MobileFaceNet));
        bytes[bytes.Length / 2] ^= 0x40;

        var e = Assert.Throws<ModelInstallException>(() => Embedders.Open(new MemoryStream(bytes), card));
        Assert.Contains("mobilefacenet", e.Message);
        Assert.Contains("is damaged: its SHA-256 is", e.Message);
        Assert.Equal(ModelProblem.Damaged, e.Problem);
        Assert.DoesNotContain("facenet models", e.Message);

        var badCard = Assert.Throws<ModelInstallException>(() => ModelCard.Read(new MemoryStream("{ not json"u8.ToArray()), "mine.card.json"));
        Assert.Contains("mine.card.json", badCard.Message);
    }
}
