using FaceNetSharp.Training;

namespace FaceNetSharp.Training.Tests;

/// <summary>Every test class that touches TorchSharp calls <see cref="Init"/> first (sets OMP_WAIT_POLICY before libtorch loads).</summary>
internal static class TorchTest
{
    public static void Init() => TorchRuntime.Initialize();

    /// <summary>Finds the repository root (the folder holding FaceNetSharp.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>A path under <c>../shared/data</c>; skips the calling test with a reason when it is absent.</summary>
    public static string Shared(params string[] parts)
    {
        var root = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        Skip.IfNot(Directory.Exists(root), "../shared/data is absent (fresh clone): this test needs the shared real weight files");
        var p = Path.Combine([root, .. parts]);
        Skip.IfNot(File.Exists(p) || Directory.Exists(p), $"{p} is absent");
        return p;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceNetSharp.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find FaceNetSharp.slnx above " + AppContext.BaseDirectory);
    }
}
