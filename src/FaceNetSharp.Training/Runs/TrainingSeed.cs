namespace FaceNetSharp.Training.Runs;

/// <summary>
/// Seeds derived from <c>--seed</c> and a position in the run (epoch, step), the same in every process, so that a
/// resumed run shuffles and samples exactly as the uninterrupted run would have. (<see cref="HashCode.Combine{T1,T2}"/>
/// cannot serve: .NET randomises it per process.)
/// </summary>
internal static class TrainingSeed
{
    /// <summary>FNV-1a over the little-endian bytes of the values, folded to a non-negative int.</summary>
    public static int Of(int seed, long position, int stream = 0)
    {
        // FNV-1a 64-bit offset basis and prime (Fowler, Noll, Vo; IETF draft-eastlake-fnv).
        const ulong OffsetBasis = 14695981039346656037UL, Prime = 1099511628211UL;
        ulong hash = OffsetBasis;
        foreach (long value in (ReadOnlySpan<long>)[seed, position, stream])
            for (int i = 0; i < 8; i++)
                hash = unchecked((hash ^ (byte)(value >> (8 * i))) * Prime);
        return (int)((hash ^ (hash >> 32)) & int.MaxValue);
    }
}
