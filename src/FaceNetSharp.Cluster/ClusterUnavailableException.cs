namespace FaceNetSharp.Cluster;

/// <summary>
/// PostgreSQL or every silo of a cluster did not answer within the bounded time-out; the message says which, where,
/// and what to start. An <see cref="IOException"/>: like an unreadable file, the input cannot be used now.
/// </summary>
public sealed class ClusterUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ClusterUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
