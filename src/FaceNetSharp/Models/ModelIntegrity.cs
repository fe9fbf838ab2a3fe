using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace FaceNetSharp.Models;

/// <summary>
/// Checks a model file against the SHA-256 its card (<c>NAME.card.json</c> beside <c>NAME.onnx</c>) was written with,
/// before a session opens it, so that a changed byte is refused instead of producing NaN distances.
/// </summary>
/// <remarks>
/// The hash of each file is kept in memory for the life of the process, keyed by full path, size and last write time
/// (a rewritten file gets a new time, so it is hashed again); the card is read on every check (0.06 ms). Measured with
/// <c>bench/FaceNetSharp.Bench model-check 15</c> on this project's 2-core machine, files in the page cache, medians:
/// SHA-256 takes about 2 ms per MiB; mobilefacenet (5.0 MiB) 13.5 ms against 150 ms to create its ONNX Runtime
/// session, the five default models (28.3 MiB) 57 ms against 379 ms (15%). A command pays it once per model it opens,
/// a server once at start, so no verdict is kept on disk: a stored verdict would save a command at most those
/// milliseconds and would be one more file that can go stale or be damaged.
/// </remarks>
internal static class ModelIntegrity
{
    private static readonly ConcurrentDictionary<string, (long Length, DateTime WriteTimeUtc, string Sha256)> Hashes = new(StringComparer.Ordinal);

    /// <summary>
    /// Throws <see cref="ModelInstallException"/> (<see cref="ModelProblem.Damaged"/>) naming the file and the cause when the
    /// file's SHA-256 differs from its card's <see cref="ModelCard.OnnxSha256"/> or the card cannot be read. A file
    /// without a card beside it is not checked (there is nothing to check it against).
    /// </summary>
    public static void Verify(string onnxPath)
    {
        if (Problem(onnxPath) is { } problem)
            throw new ModelInstallException($"{Path.GetFullPath(onnxPath)} {problem}", ModelProblem.Damaged, Path.GetFullPath(onnxPath));
    }

    /// <summary>
    /// How long a mismatch is given to resolve itself before it counts: an install in another process writes the model
    /// and then its card (FaceNetSharp.Models' ModelInstaller, each atomically, a few milliseconds apart), so a check between
    /// the two sees the new file with the old card.
    /// </summary>
    private static readonly TimeSpan InstallWindow = TimeSpan.FromMilliseconds(250);

    /// <summary>What is wrong with the file against its card (e.g. "is damaged: ..."), or null when it matches or has no card.</summary>
    public static string? Problem(string onnxPath)
    {
        var problem = ProblemNow(onnxPath);
        if (problem is null) return null;
        Thread.Sleep(InstallWindow);
        return ProblemNow(onnxPath);
    }

    private static string? ProblemNow(string onnxPath)
    {
        var cardPath = CardPath(onnxPath);
        if (!File.Exists(cardPath)) return null;
        ModelCard card;
        try
        {
            card = ModelCard.Read(cardPath);
        }
        catch (ModelInstallException e)
        {
            return $"cannot be checked: {e.Message}";
        }
        var actual = Sha256(onnxPath);
        if (string.Equals(actual, card.OnnxSha256, StringComparison.OrdinalIgnoreCase)) return null;
        return $"is damaged: its SHA-256 is {actual}, but its card {Path.GetFileName(cardPath)} says {card.OnnxSha256}";
    }

    /// <summary>The card of <paramref name="onnxPath"/>: <c>NAME.card.json</c> in the same folder.</summary>
    public static string CardPath(string onnxPath) => Path.ChangeExtension(onnxPath, ".card.json");

    /// <summary>Lower-case hex SHA-256 of the file, from the per-process cache while its size and write time are unchanged.</summary>
    public static string Sha256(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        long length = info.Length;
        var written = info.LastWriteTimeUtc;
        if (Hashes.TryGetValue(full, out var known) && known.Length == length && known.WriteTimeUtc == written) return known.Sha256;
        string sha;
        using (var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16))
            sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        Hashes[full] = (length, written, sha);
        return sha;
    }
}
