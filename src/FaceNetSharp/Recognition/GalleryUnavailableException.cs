namespace FaceNetSharp.Recognition;

/// <summary>
/// A gallery's store did not answer within its bounded time-out (a cluster gallery's PostgreSQL, or every one of its
/// silos); the message says which, where, and what to start. Trying again later may succeed: the HTTP API answers it
/// 503 with <c>Retry-After</c>. An <see cref="IOException"/>: like an unreadable file, the gallery cannot be used now.
/// </summary>
public class GalleryUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    public GalleryUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
