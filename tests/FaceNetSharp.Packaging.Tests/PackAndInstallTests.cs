using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace FaceNetSharp.Packaging.Tests;

/// <summary>
/// Packs FaceNetSharp, FaceNetSharp.Models and the facenet tool (FaceNetSharp.Cli) from a copy of the sources into a
/// local folder (FEED), once for the class, with a version no earlier run used, into a NuGet packages folder of its
/// own, so that nothing stale is reused; the packages they depend on come from the user's NuGet cache, as a local source.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("fns-pack-").FullName;
    public string Feed => Path.Combine(Root, "feed");
    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
    public Dictionary<string, string> Env { get; }
    public string? Failure { get; }
    public TimeSpan PackTime { get; }

    public PackedFeed()
    {
        Directory.CreateDirectory(Feed);
        // every restore below reads this file: the feed, and the user's own NuGet cache as a source of the dependencies
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="feed" value="{Feed}" />
                <add key="cache" value="{cache}" />
              </packageSources>
            </configuration>
            """);
        Env = new()
        {
            ["NUGET_PACKAGES"] = Path.Combine(Root, "nuget-packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["FACENETSHARP_MODELS_DIR"] = Path.Combine(Root, "unused-models"), // nothing reads the user's model cache
        };
        var src = Path.Combine(Root, "src");
        CopySources(TestPaths.RepoRoot, src);
        var clock = Stopwatch.StartNew();
        foreach (var project in new[] { "src/FaceNetSharp", "src/FaceNetSharp.Models", "src/FaceNetSharp.Cli" })
        {
            var r = Proc.Run(Root, Env, TimeSpan.FromMinutes(10), "dotnet", "pack", Path.Combine(src, project), "-c", "Release", "-o", Feed,
                $"-p:Version={Version}", "--configfile", Path.Combine(Root, "nuget.config"), "-v", "quiet", "-nologo");
            if (r.ExitCode != 0) { Failure = $"dotnet pack {project} failed:\n{r.Output}"; break; }
        }
        PackTime = clock.Elapsed;
    }

    /// <summary>What a clone has (the tracked files), without build outputs: the projects, the props, the licence.</summary>
    private static void CopySources(string repo, string target)
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "LICENSE" })
            if (File.Exists(Path.Combine(repo, file))) { Directory.CreateDirectory(target); File.Copy(Path.Combine(repo, file), Path.Combine(target, file)); }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(repo, "src"), "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(repo, file);
            var parts = rel.Split(Path.DirectorySeparatorChar);
            if (parts.Contains("bin") || parts.Contains("obj")) continue;
            var dest = Path.Combine(target, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A process with its output, killed past its time limit.</summary>
internal static class Proc
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Result Run(string dir, IReadOnlyDictionary<string, string> env, TimeSpan limit, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish in {limit}: {stdout}{stderr}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Size of a folder's files, in MiB.</summary>
    public static double MiB(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1048576.0;
}

/// <summary>
/// Issue 12: the packages install from a local folder as a user installs them. The tool: <c>dotnet tool install
/// FaceNetSharp.Cli --tool-path T --add-source FEED</c>, at most 200 MB, without libtorch, and <c>T/facenet compare</c>
/// on two photos with an empty model folder (it installs the default models with npm itself). A library user: a fresh
/// <c>dotnet new console</c> app that adds FaceNetSharp and the ONNX Runtime natives from the feed, built for linux-x64,
/// compares the same photos with the models the tool installed (the same distance) and, with an empty folder, says
/// which models are missing without starting npm.
/// </summary>
public sealed class PackAndInstallTests(PackedFeed feed, ITestOutputHelper log) : IClassFixture<PackedFeed>
{
    private static string Photo(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");


    private void RequireFeed()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "the tool is packed for linux-x64");
        Assert.True(feed.Failure is null, feed.Failure);
        log.WriteLine($"packed FaceNetSharp, FaceNetSharp.Models, FaceNetSharp.Cli {feed.Version} in {feed.PackTime.TotalSeconds:F0} s");
    }

    /// <summary>The tool, installed once for the class; the models folder is filled by its first compare.</summary>
    private (string Facenet, double MiB) InstallTool()
    {
        var tools = Path.Combine(feed.Root, "tools");
        var facenet = Path.Combine(tools, "facenet");
        if (!File.Exists(facenet))
        {
            var r = Proc.Run(feed.Root, feed.Env, TimeSpan.FromMinutes(5), "dotnet", "tool", "install", "FaceNetSharp.Cli", "--tool-path", tools,
                "--add-source", feed.Feed, "--version", feed.Version);
            Assert.True(r.ExitCode == 0, r.Output);
        }
        return (facenet, Proc.MiB(tools));
    }

    [SkippableFact]
    public void The_tool_installs_without_libtorch_in_200_MB_and_compares_two_photos_with_an_empty_model_folder()
    {
        RequireFeed();
        string a = Photo(1), b = Photo(2);
        var clock = Stopwatch.StartNew();
        var (facenet, mib) = InstallTool();
        log.WriteLine($"tool installed: {mib:F0} MiB ({clock.Elapsed.TotalSeconds:F0} s)");
        Assert.True(mib <= 200, $"the tool takes {mib:F0} MiB installed");
        var files = Directory.EnumerateFiles(Path.GetDirectoryName(facenet)!, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("libonnxruntime.so", files);
        Assert.DoesNotContain(files, f => f!.Contains("torch", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("onnxruntime.dll", files); // no Windows natives in a linux-x64 tool

        var models = Directory.CreateDirectory(Path.Combine(feed.Root, "models-empty")).FullName;
        Assert.Empty(Directory.EnumerateFileSystemEntries(models));
        clock.Restart();
        var r = Proc.Run(feed.Root, feed.Env, TimeSpan.FromMinutes(10), facenet, "compare", a, b, "--models-dir", models, "--format", "json");
        log.WriteLine($"facenet compare with an empty model folder: {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(r.ExitCode == 0, r.Output);
        using var json = JsonDocument.Parse(r.Stdout);
        var d = json.RootElement.GetProperty("distances")[0][1].GetDouble();
        Assert.InRange(d, 0, json.RootElement.GetProperty("threshold").GetDouble()); // the same man
        Assert.True(File.Exists(Path.Combine(models, "mobilefacenet.card.json")), "the tool installed the models");

        // training is the add-on: one line says how to install it
        var train = Proc.Run(feed.Root, feed.Env, TimeSpan.FromMinutes(2), facenet, "train", "softmax", "--data-dir", a);
        Assert.Equal(2, train.ExitCode);
        Assert.Contains("dotnet tool install -g FaceNetSharp.Training.Cli", train.Stderr);
    }

    [SkippableFact]
    public void A_new_console_app_adds_the_packages_and_compares_two_photos()
    {
        RequireFeed();
        string a = Photo(1), b = Photo(2);
        // the models, as the tool installs them (the app ships or installs its own; it never runs npm itself)
        var (facenet, _) = InstallTool();
        var models = Path.Combine(feed.Root, "models-app");
        var compare = Proc.Run(feed.Root, feed.Env, TimeSpan.FromMinutes(10), facenet, "compare", a, b, "--models-dir", models, "--format", "json");
        Assert.True(compare.ExitCode == 0, compare.Output);
        using var expected = JsonDocument.Parse(compare.Stdout);
        var toolDistance = expected.RootElement.GetProperty("distances")[0][1].GetDouble();

        var clock = Stopwatch.StartNew();
        var app = Path.Combine(feed.Root, "app");
        var config = Path.Combine(feed.Root, "nuget.config");
        var step = Proc.Run(feed.Root, feed.Env, TimeSpan.FromMinutes(3), "dotnet", "new", "console", "-o", app, "--framework", "net10.0");
        Assert.True(step.ExitCode == 0, step.Output);
        // the ONNX Runtime natives the app chooses (CPU here), at the version the repository pins
        var ortVersion = System.Xml.Linq.XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == "Microsoft.ML.OnnxRuntime").Attribute("Version")!.Value;
        foreach (var (package, version) in new[] { ("FaceNetSharp", feed.Version), ("Microsoft.ML.OnnxRuntime", ortVersion) })
        {
            step = Proc.Run(app, feed.Env, TimeSpan.FromMinutes(3), "dotnet", "add", "package", package, "--version", version, "--no-restore");
            Assert.True(step.ExitCode == 0, step.Output);
        }
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using FaceNetSharp;
            using FaceNetSharp.Imaging;

            using var faces = FaceRecognizer.Open("mobilefacenet", args[0]);
            var a = faces.EmbedLargestFace(ImageLoader.Load(args[1]));
            var b = faces.EmbedLargestFace(ImageLoader.Load(args[2]));
            if (a is null || b is null) { Console.Error.WriteLine("no face"); return 1; }
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{faces.Distance(a.Vector, b.Vector):R} {faces.IsSamePerson(a.Vector, b.Vector)}"));
            return 0;
            """);
        var outRid = Path.Combine(feed.Root, "app-linux-x64");
        step = Proc.Run(app, feed.Env, TimeSpan.FromMinutes(10), "dotnet", "build", "-c", "Release", "-r", "linux-x64", "-o", outRid, "--configfile", config, "-nologo", "-v", "quiet");
        Assert.True(step.ExitCode == 0, step.Output);
        var outAny = Path.Combine(feed.Root, "app-any");
        step = Proc.Run(app, feed.Env, TimeSpan.FromMinutes(10), "dotnet", "build", "-c", "Release", "-o", outAny, "--configfile", config, "-nologo", "-v", "quiet");
        Assert.True(step.ExitCode == 0, step.Output);
        double rid = Proc.MiB(outRid), any = Proc.MiB(outAny);
        log.WriteLine($"console app bin: {rid:F0} MiB with -r linux-x64, {any:F0} MiB without -r ({clock.Elapsed.TotalSeconds:F0} s to create and build both)");
        Assert.True(rid <= 60, $"the linux-x64 build takes {rid:F0} MiB");
        Assert.False(File.Exists(Path.Combine(outRid, "onnxruntime.dll")), "a Windows native in a linux-x64 build");
        Assert.False(Directory.Exists(Path.Combine(outAny, "runtimes", "android")), "Android natives in a net10.0 app");

        var run = Proc.Run(app, feed.Env, TimeSpan.FromMinutes(3), "dotnet", Path.Combine(outRid, "app.dll"), models, a, b);
        Assert.True(run.ExitCode == 0, run.Output);
        var parts = run.Stdout.Trim().Split(' ');
        Assert.Equal(toolDistance, double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), 4);
        Assert.Equal("True", parts[1]);

        // the library alone installs nothing: an empty folder is an error naming what is missing, and npm never runs
        var empty = Directory.CreateDirectory(Path.Combine(feed.Root, "empty-models")).FullName;
        var missing = Proc.Run(app, feed.Env, TimeSpan.FromMinutes(3), "dotnet", Path.Combine(outRid, "app.dll"), empty, a, b);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("not installed in " + empty, missing.Stderr);
        Assert.Contains("mtcnn-pnet.onnx", missing.Stderr);
        Assert.DoesNotContain("npm", missing.Stderr);
        Assert.DoesNotContain("facenet models", missing.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(empty));
    }
}
