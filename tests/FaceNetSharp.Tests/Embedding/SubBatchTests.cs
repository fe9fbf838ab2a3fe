using FaceNetSharp.Embedding;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Quantization;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Embedding;

/// <summary>
/// A batch split into parts run at once on one session (<see cref="EmbedderOptions.SubBatchSize"/>, the int8 default)
/// gives each face the vector the whole batch gives it, in the same order, on real faces.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class SubBatchTests
{
    private readonly InstalledModelsFixture models;

    public SubBatchTests(InstalledModelsFixture models)
    {
        this.models = models;
        ModelStore.DefaultInt8Maker ??= Int8Models.Maker; // as the facenet tool and ModelInstaller.UseAsDefault set it
    }

    /// <summary>11 aligned chips: the first photo of each of the first 11 kz-celebs people (11 is prime: parts of unequal size).</summary>
    private static List<RgbImage> Chips(ModelStore store, string model) => KzCelebsChips.Aligned(store.Directory, model, people: 11);

    [SkippableTheory]
    [InlineData("mobilefacenet", EmbeddingPrecision.Int8)]
    [InlineData("dlib", EmbeddingPrecision.Int8)]
    [InlineData("dlib", EmbeddingPrecision.Float32)]
    public void A_split_batch_gives_each_face_the_vector_of_the_whole_batch(string model, EmbeddingPrecision precision)
    {
        var store = models.Require();
        var chips = Chips(store, model);
        using var whole = Embedders.Open(store, model, new EmbedderOptions { Precision = precision, SubBatchSize = 0 });
        using var split = Embedders.Open(store, model, new EmbedderOptions { Precision = precision, SubBatchSize = 3 });
        using var splitFlip = Embedders.Open(store, model, new EmbedderOptions { Precision = precision, SubBatchSize = 2, FlipAugmentation = true, BatchSize = 7 });
        using var wholeFlip = Embedders.Open(store, model, new EmbedderOptions { Precision = precision, SubBatchSize = 0, FlipAugmentation = true, BatchSize = 7 });
        var expected = whole.Embed(chips);
        var actual = split.Embed(chips); // one batch of 11 in parts of 2, 3, 3 and 3 faces
        var expectedFlip = wholeFlip.Embed(chips);
        var actualFlip = splitFlip.Embed(chips); // batches of 7 and 4 (from face 7 on), in parts of 1-2 and 2 faces
        // The parts differ from the whole batch only in the batch size ONNX Runtime sees; each face's arithmetic is the
        // same (int8: integer sums; float32: per-image convolutions), so the vectors agree to float rounding. A part
        // written at the wrong place, or one face embedded twice, moves vectors by 0.1 or more (different faces).
        for (int i = 0; i < chips.Count; i++)
        {
            float worst = expected[i].Zip(actual[i], (x, y) => MathF.Abs(x - y)).Max();
            float worstFlip = expectedFlip[i].Zip(actualFlip[i], (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(worst <= 1e-5f && worstFlip <= 1e-5f, $"face {i}: largest difference {worst} (flipped {worstFlip})");
        }
        Assert.True(expected[0].Zip(expected[1], (x, y) => MathF.Abs(x - y)).Max() > 0.01f, "two different faces gave the same vector");
    }

    [SkippableFact]
    public void Int8_splits_a_batch_by_default_and_float32_does_not()
    {
        var store = models.Require();
        using var int8 = Embedders.Open(store, "dlib", new EmbedderOptions { Precision = EmbeddingPrecision.Int8 });
        using var int8OneThread = Embedders.Open(store, "dlib", new EmbedderOptions { Precision = EmbeddingPrecision.Int8, Inference = new InferenceOptions { IntraOpThreads = 1 } });
        using var fp32 = Embedders.Open(store, "dlib");
        Assert.Equal(EmbedderOptions.DefaultInt8SubBatchSize, int8.SubBatchSize);
        Assert.Equal(0, int8OneThread.SubBatchSize); // a server's one thread per request: no split
        Assert.Equal(0, fp32.SubBatchSize);
    }

    [SkippableFact]
    public void A_wrong_size_chip_in_a_split_batch_is_the_usual_error_naming_it()
    {
        var store = models.Require();
        var chips = Chips(store, "dlib").Take(4).ToList();
        chips[2] = new RgbImage(100, 100, new byte[100 * 100 * 3]);
        using var split = Embedders.Open(store, "dlib", new EmbedderOptions { Precision = EmbeddingPrecision.Int8, SubBatchSize = 2 });
        var e = Assert.Throws<ArgumentException>(() => split.Embed(chips));
        Assert.Contains("face 2 is 100x100", e.Message);
    }
}
