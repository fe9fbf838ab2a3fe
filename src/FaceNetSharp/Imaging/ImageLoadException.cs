namespace FaceNetSharp.Imaging;

/// <summary>Why an image could not be loaded.</summary>
public enum ImageLoadFailure
{
    /// <summary>The file or folder does not exist.</summary>
    NotFound,

    /// <summary>The file could not be read (permissions, I/O error).</summary>
    Unreadable,

    /// <summary>The file has no bytes.</summary>
    Empty,

    /// <summary>The content is not an image format this library decodes (checked by content, not by extension).</summary>
    UnknownFormat,

    /// <summary>The image data ends early (a partly downloaded or cut file).</summary>
    Truncated,

    /// <summary>The data is an image format but is damaged or uses an unsupported variant.</summary>
    Corrupt,

    /// <summary>The header declares more pixels than <see cref="ImageLoadOptions.MaxPixels"/> allows.</summary>
    TooLarge,
}

/// <summary>
/// An image file (or buffer) could not be decoded. The message names the file and says what is wrong;
/// <see cref="FilePath"/> and <see cref="Reason"/> let a batch report and go on.
/// </summary>
public sealed class ImageLoadException : Exception
{
    /// <summary>The file <paramref name="filePath"/> could not be loaded for <paramref name="reason"/>; <paramref name="problem"/> says what is wrong in words.</summary>
    public ImageLoadException(string filePath, ImageLoadFailure reason, string problem, Exception? innerException = null)
        : base($"Cannot load image '{filePath}': {problem}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The path of the file, or the name the caller gave to a decoded buffer.</summary>
    public string FilePath { get; }

    /// <summary>The kind of failure.</summary>
    public ImageLoadFailure Reason { get; }
}
