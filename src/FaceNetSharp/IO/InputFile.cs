namespace FaceNetSharp.IO;

/// <summary>
/// The check made before reading a file a user named or a folder walk found. A pipe, socket or device is never
/// read: opening a FIFO blocks until something writes to it, and a device may never end. .NET does not say what kind
/// a file is, but these report a size of 0, as no image, pairs file or JSON file has.
/// </summary>
internal static class InputFile
{
    /// <summary>What is wrong with a file for which <see cref="IsEmptyOrSpecial"/> holds.</summary>
    public const string EmptyOrSpecialProblem = "the file is empty (0 bytes), or not a regular file (a pipe, socket or device: not read)";

    /// <summary>True when <paramref name="path"/> exists, is not a folder, and reports 0 bytes.</summary>
    public static bool IsEmptyOrSpecial(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.Length == 0;
    }
}
