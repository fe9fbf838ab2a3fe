namespace FaceNetSharp.Server.Tests;

/// <summary>Where tests find the repository and the shared data (<c>../shared</c> beside the repository).</summary>
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
        Skip.If(root is null, "../shared/data is absent (fresh clone): test needs the shared real photos");
        var p = Path.Combine([root!, .. parts]);
        Skip.IfNot(File.Exists(p) || Directory.Exists(p), $"{p} is absent");
        return p;
    }

    /// <summary>Photos used by the server tests (all real, from ../shared/data/faces).</summary>
    public static class Photos
    {
        public static string Hopkins1 => Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        public static string Hopkins2 => Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0002.jpg");
        public static string Obama => Shared("faces", "face_recognition-examples", "examples", "obama.jpg");
        public static string Biden => Shared("faces", "face_recognition-examples", "examples", "biden.jpg");
        public static string TwoPeople => Shared("faces", "face_recognition-examples", "examples", "two_people.jpg");

        /// <summary>face-api.js's example set: 150x150 grey PNGs of eight people, several each.</summary>
        public static string Character(string name, int index) =>
            Shared("faces", "face-api-js-images", "examples", "images", name, $"{name}{index}.png");

        public static readonly string[] Characters = ["amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"];
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FaceNetSharp.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find FaceNetSharp.slnx above " + AppContext.BaseDirectory);
    }
}
