using System.Globalization;
using System.Text.RegularExpressions;
using FaceNetSharp.Recognition;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// <c>facenet classify train</c> then <c>predict</c> on small real subsets: five people of kz-celebs-talgin (112x112
/// face crops, re-detected and re-aligned: they are not on MobileFaceNet's template), ORL photos, and the
/// <c>--aligned</c> path that embeds files as chips.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed partial class ClassifyCommandTests(InstalledModelsFixture fx)
{
    /// <summary>Copies the first <paramref name="images"/> files of the first <paramref name="people"/> class folders.</summary>
    private static string Subset(TempFolder tmp, string source, int people, int images)
    {
        var root = tmp.Combine("data");
        foreach (var dir in Directory.GetDirectories(source).Order(StringComparer.Ordinal).Take(people))
        {
            var target = Path.Combine(root, Path.GetFileName(dir));
            Directory.CreateDirectory(target);
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal).Take(images))
                File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }
        return root;
    }

    [GeneratedRegex(@"Accuracy: (\d+\.\d+)")]
    private static partial Regex AccuracyLine();

    private static double Accuracy(CliRunner.Result run) =>
        double.Parse(AccuracyLine().Match(run.Console).Groups[1].Value, CultureInfo.InvariantCulture);

    [SkippableFact]
    public void Split_dataset_says_how_many_classes_it_drops_and_why()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var data = Subset(tmp, TestPaths.Shared("faces", "kz-celebs-talgin", "our_dataset"), people: 3, images: 4);
        var small = Directory.GetDirectories(data).Order(StringComparer.Ordinal).Last();
        foreach (var f in Directory.GetFiles(small).Order(StringComparer.Ordinal).Skip(2)) File.Delete(f);
        var file = tmp.Combine("classifier.json");
        string[] common = ["--use-split-dataset", "--nrof-train-images-per-class", "2", "--method", "centre", "--models-dir", store.Directory];

        var train = CliRunner.Run(["classify", "train", data, file, "--min-nrof-images-per-class", "3", .. common]);
        Assert.True(train.ExitCode == 0, train.Console);
        Assert.Contains($"1 of 3 classes dropped: fewer than 3 images (--min-nrof-images-per-class), e.g. {Path.GetFileName(small)} (2)", train.Console);

        // facenet's default of 20 drops them all: said so, not "no training faces"
        var all = CliRunner.Run(["classify", "train", data, file, .. common]);
        Assert.Equal(2, all.ExitCode);
        Assert.Contains($"all 3 classes of {data} have fewer than 20 images (the largest has 4)", all.Console);

        var empty = tmp.Combine("empty");
        Directory.CreateDirectory(empty);
        var none = CliRunner.Run(["classify", "train", empty, file, .. common]);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains($"no images found under {empty}", none.Console);
    }

    [SkippableFact]
    public void Train_and_predict_with_a_split()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var data = Subset(tmp, TestPaths.Shared("faces", "kz-celebs-talgin", "our_dataset"), people: 5, images: 12);
        var file = tmp.Combine("classifier.json");
        string[] split = ["--use-split-dataset", "--min-nrof-images-per-class", "10", "--nrof-train-images-per-class", "6", "--models-dir", store.Directory];

        var train = CliRunner.Run(["classify", "train", data, file, "--method", "centre", .. split]);
        Assert.True(train.ExitCode == 0, train.Console);
        Assert.Matches(@"Trained nearest-centre on \d+ faces of 5 people", train.Console);
        Assert.Contains("calibrated leave-one-out", train.Console);
        var classifier = EmbeddingClassifiers.Load(file);
        Assert.Equal(5, classifier.Classes.Count);
        Assert.True(classifier.Threshold > 0);

        var predict = CliRunner.Run(["classify", "predict", data, file, .. split]);
        Assert.True(predict.ExitCode == 0, predict.Console);
        // The other 6 images of each person; five well-separated people should be named nearly always.
        Assert.Contains("Number of images: 30", predict.Console);
        Assert.Contains("Accuracy:", predict.Console);
        Assert.InRange(Accuracy(predict), 0.5, 1.0);
    }

    [SkippableFact]
    public void Held_out_people_are_strangers_at_predict()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var data = Subset(tmp, TestPaths.Shared("faces", "orl-att-faces", "orl_faces"), people: 4, images: 10);
        var file = tmp.Combine("classifier.json");
        string[] split = ["--use-split-dataset", "--min-nrof-images-per-class", "10", "--nrof-train-images-per-class", "5", "--models-dir", store.Directory];

        var train = CliRunner.Run(["classify", "train", data, file, "--hold-out-classes", "1", .. split]);
        Assert.True(train.ExitCode == 0, train.Console);
        Assert.Contains("held out of training:", train.Console);
        Assert.Equal(3, EmbeddingClassifiers.Load(file).Classes.Count);

        var predict = CliRunner.Run(["classify", "predict", data, file, .. split]);
        Assert.True(predict.ExitCode == 0, predict.Console);
        Assert.Contains("(3 known to the classifier)", predict.Console);
        Assert.Contains("not enrolled", predict.Console);
    }

    /// <summary>facenet's method: a linear SVM with probabilities (ML.NET), on ORL's 40 people x 10 photos, 5/5 split.</summary>
    [SkippableFact]
    public void Svm_train_and_predict_on_ORL()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var data = Subset(tmp, TestPaths.Shared("faces", "orl-att-faces", "orl_faces"), people: 10, images: 10);
        var file = tmp.Combine("svm.json");
        string[] split = ["--use-split-dataset", "--min-nrof-images-per-class", "10", "--nrof-train-images-per-class", "5", "--models-dir", store.Directory];

        var train = CliRunner.Run(["classify", "train", data, file, "--method", "svm", .. split]);
        Assert.True(train.ExitCode == 0, train.Console);
        Assert.IsType<FaceNetSharp.Recognition.Svm.LinearSvmClassifier>(EmbeddingClassifiers.Load(file));

        var predict = CliRunner.Run(["classify", "predict", data, file, .. split]);
        Assert.True(predict.ExitCode == 0, predict.Console);
        Assert.Contains("Number of images: 50", predict.Console);
        // Measured 1.000 (knn also scores 1.000 on ORL); a margin for a changed model or calibration.
        Assert.InRange(Accuracy(predict), 0.9, 1.0);
    }
}
