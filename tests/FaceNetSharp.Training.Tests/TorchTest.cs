using FaceNetSharp.Testing;
using FaceNetSharp.Training;

namespace FaceNetSharp.Training.Tests;

/// <summary>Every test class that touches TorchSharp calls <see cref="Init"/> first (sets OMP_WAIT_POLICY before libtorch loads).</summary>
internal static class TorchTest
{
    public static void Init() => TorchRuntime.Initialize();

    /// <summary>The repository root (the folder holding FaceNetSharp.slnx).</summary>
    public static string RepoRoot => TestPaths.RepoRoot;

    /// <summary>A path under <c>../shared/data</c>; skips the calling test with a reason when it is absent.</summary>
    public static string Shared(params string[] parts) => TestPaths.Shared(parts);
}
