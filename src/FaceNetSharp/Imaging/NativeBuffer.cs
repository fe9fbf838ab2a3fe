using System.Runtime.InteropServices;

namespace FaceNetSharp.Imaging;

/// <summary>
/// Unmanaged scratch memory with an explicit lifetime: allocated on construction, freed on <see cref="Dispose"/>.
/// For large short-lived buffers (a pyramid level of a 40-Mpx photo is 43 MB): they neither add to the managed heap's
/// allocation count nor stay in a pool afterwards, and glibc returns blocks this large to the system when freed.
/// Not thread-safe; one owner.
/// </summary>
internal sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    private T* _data;

    public NativeBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _data = (T*)NativeMemory.Alloc((nuint)Math.Max(length, 1), (nuint)sizeof(T));
        Length = length;
    }

    public int Length { get; }

    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_data is null, this);
            return new Span<T>(_data, Length);
        }
    }

    public void Dispose()
    {
        if (_data is null) return;
        NativeMemory.Free(_data);
        _data = null;
    }
}
