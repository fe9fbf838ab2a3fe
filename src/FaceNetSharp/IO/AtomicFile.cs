namespace FaceNetSharp.IO;

/// <summary>
/// Every file the project writes goes through here: into a hidden temporary file in the target's folder, flushed to
/// disk, then renamed over the target. A reader (or a run killed half-way) sees the old file or the whole new one,
/// never a part; on failure the temporary file is removed and the old file is left as it was.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static void Write(string path, byte[] bytes) => Write(path, s => s.Write(bytes));
}
