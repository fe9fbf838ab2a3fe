using System.Text.RegularExpressions;

namespace FaceNetSharp.IO;

/// <summary>
/// Every file the project writes goes through here: into a hidden temporary file in the target's folder, flushed to
/// disk, then renamed over the target. A reader (or a run killed half-way) sees the old file or the whole new one,
/// never a part; on failure the temporary file is removed and the old file is left as it was. A killed process
/// leaves its temporary file behind; <see cref="RemoveLeftovers"/> cleans those of a folder on the next run.
/// </summary>
internal static partial class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            // FileShare.None locks the temporary file for as long as it is open (on Unix .NET takes an advisory
            // flock): RemoveLeftovers leaves a locked one alone, so another process's write in flight is never removed.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
                // Unix renames an open file, so the file is never unlocked under its temporary name once written;
                // Windows cannot rename a file open without sharing, so there it is renamed after closing.
                if (!OperatingSystem.IsWindows()) File.Move(temp, full, overwrite: true);
            }
            if (OperatingSystem.IsWindows()) File.Move(temp, full, overwrite: true);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static void Write(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>
    /// Deletes the temporary files <see cref="Write(string, Action{Stream})"/> left in <paramref name="folder"/>
    /// (not below it) when its process was killed: only names of its own pattern (<c>.NAME.&lt;32 hex&gt;.tmp</c>), and
    /// only those no process holds open. A missing or unreadable folder is left alone. Returns how many were deleted.
    /// </summary>
    public static int RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp"))
            {
                if (!TempName().IsMatch(Path.GetFileName(file))) continue;
                try
                {
                    // Taking the lock proves no writer has it open (a writer holds it from creation to rename); a
                    // file still empty may be one a writer has created but not yet locked, so it waits for a later run.
                    // (Windows: the writer's handle shares nothing, so any open fails; Delete lets this one delete it.)
                    var share = OperatingSystem.IsWindows() ? FileShare.Delete : FileShare.None;
                    using (var probe = new FileStream(file, FileMode.Open, FileAccess.Read, share))
                    {
                        if (probe.Length == 0 && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) < TimeSpan.FromMinutes(1)) continue;
                        File.Delete(file);
                    }
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // in use by a live writer, or removed by another process meanwhile: not ours to clean
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the folder cannot be listed: its own writes will fail and say so
        }
        return removed;
    }

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TempName();
}
