namespace FaceNetSharp.Testing;

/// <summary>
/// Where tests find the repository and the shared data (<c>../shared</c> beside the repository). One file, compiled
/// into every test project (tests/Shared).
/// </summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>../shared/data</c>, or null when absent (a user's fresh clone).</summary>
    public static string? SharedData
    {
        get
        {
            var p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            return Directory.Exists(p) ? p : null;
        }
    }

    /// <summary>A path under <c>../shared/data</c>; skips the calling test with a reason when it is absent.</summary>
    public static string Shared(params string[] parts)
    {
        var root = SharedData;
        Skip.If(root is null, "../shared/data is absent (fresh clone): test needs the shared real photos/golden data");
        var p = Path.Combine([root!, .. parts]);
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
