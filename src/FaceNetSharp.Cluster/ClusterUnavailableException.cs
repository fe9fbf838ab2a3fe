using FaceNetSharp.Recognition;

namespace FaceNetSharp.Cluster;

/// <summary>
/// PostgreSQL or every silo of a cluster did not answer within the bounded time-out; the message says which, where,
/// and what to start. A <see cref="GalleryUnavailableException"/> (an <see cref="IOException"/>): like an unreadable
/// file, the gallery cannot be used now; the HTTP API answers it 503.
/// </summary>
public sealed class ClusterUnavailableException : GalleryUnavailableException
{
    /// <summary>Creates the exception.</summary>
    public ClusterUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
