namespace FaceNetSharp.Tests;

/// <summary>A temporary folder for files a test makes; deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("facenetsharp-test-").FullName;

    /// <summary>A path inside the folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes a file into the folder and returns its path.</summary>
    public string Write(string name, ReadOnlySpan<byte> bytes)
    {
        var p = Combine(name);
        File.WriteAllBytes(p, bytes.ToArray());
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // best effort
    }
}
