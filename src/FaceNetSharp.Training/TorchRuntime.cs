using System.Runtime.InteropServices;

namespace FaceNetSharp.Training;

/// <summary>
/// Prepares the process for libtorch. Call <see cref="Initialize"/> before the first TorchSharp call
/// (before any <c>torch.*</c> method, tensor or module is touched): it has no effect once libtorch is loaded.
/// </summary>
/// <remarks>
/// libtorch's OpenMP worker threads spin while they wait for work (libgomp's default wait policy). On a busy
/// machine that turned a 15 ms forward pass into about 2 s (../shared/docs/STACK.md, where it was measured).
/// <c>OMP_WAIT_POLICY=PASSIVE</c> makes them sleep instead. libgomp reads the variable from the native
/// environment when it is loaded, and <see cref="Environment.SetEnvironmentVariable(string, string)"/> only changes
/// .NET's copy on Linux, so the variable is set through libc's <c>setenv</c>. A value the user already set is kept.
/// Thread-safe and idempotent.
/// </remarks>
public static partial class TorchRuntime
{
    /// <summary>The OpenMP wait policy set before libtorch loads, unless the environment already has one.</summary>
    public const string OmpWaitPolicy = "PASSIVE";

    private static readonly Lock Gate = new();
    private static bool initialized;

    /// <summary>Sets <c>OMP_WAIT_POLICY</c> in the native environment (unless already set). Call before any TorchSharp call.</summary>
    public static void Initialize()
    {
        lock (Gate)
        {
            if (initialized) return;
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                // overwrite = 0: an explicit OMP_WAIT_POLICY from the user wins.
                if (SetEnv("OMP_WAIT_POLICY", OmpWaitPolicy, 0) != 0)
                    throw new InvalidOperationException("setenv(OMP_WAIT_POLICY) failed with errno " + Marshal.GetLastPInvokeError());
            }
            else if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            {
                // On Windows the process environment block is shared with native code.
                Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", OmpWaitPolicy);
            }
            initialized = true;
        }
    }

    /// <summary>The value of <c>OMP_WAIT_POLICY</c> in the native environment (libc's <c>getenv</c>), or null.</summary>
    internal static string? NativeGetEnv(string name)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return Environment.GetEnvironmentVariable(name);
        var p = GetEnv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);
}
