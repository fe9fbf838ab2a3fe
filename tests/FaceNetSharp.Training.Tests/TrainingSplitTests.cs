using FaceNetSharp.Recognition;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Runs;

namespace FaceNetSharp.Training.Tests;

/// <summary>Training reads its data with the library's dataset type and splits it as facenet's split_dataset does.</summary>
public sealed class TrainingSplitTests
{
    private static FaceClass Person(string name, int images) =>
        new(name, [.. Enumerable.Range(1, images).Select(i => $"/data/{name}/{name}_{i:D4}.png")]);

    [Fact]
    public void Split_keeps_floor_of_one_minus_ratio_for_training_and_drops_classes_below_the_minimum()
    {
        var (train, val) = TrainingSplit.Split([Person("a", 10), Person("b", 3), Person("c", 1)], 0.2, minImagesPerClass: 2, new Random(1));
        // a: floor(10 * 0.8) = 8 / 2; b: floor(3 * 0.8) = 2 / 1; c: floor(0.8) = 0 < 2, left out of both
        Assert.Equal(["a", "b"], train.Select(c => c.Name));
        Assert.Equal(["a", "b"], val.Select(c => c.Name));
        Assert.Equal([8, 2], train.Select(c => c.ImagePaths.Count));
        Assert.Equal([2, 1], val.Select(c => c.ImagePaths.Count));
        Assert.Empty(train[0].ImagePaths.Intersect(val[0].ImagePaths));
        Assert.Equal(Person("a", 10).ImagePaths.Order(), train[0].ImagePaths.Concat(val[0].ImagePaths).Order());
    }

    [Fact]
    public void Training_has_no_dataset_type_of_its_own()
    {
        // one dataset type for the library and training (issue 12, the design review): FaceClass and FaceDataset
        var exported = typeof(FaceTrainer).Assembly.GetExportedTypes().Select(t => t.Name).ToHashSet();
        Assert.DoesNotContain("ImageClass", exported);
        Assert.DoesNotContain("FaceDataset", exported);
    }

    [Fact]
    public void Too_few_usable_classes_is_a_dataset_error_with_the_counts()
    {
        var e = Assert.Throws<DatasetException>(() => TrainingSplit.RequireUsable([Person("a", 3), Person("b", 1)], "/data", minClasses: 2, minImages: 2));
        Assert.Contains("1 class folder(s) with at least 2 image(s)", e.Message);
        Assert.Contains("2 folders, 4 files", e.Message);
    }
}
