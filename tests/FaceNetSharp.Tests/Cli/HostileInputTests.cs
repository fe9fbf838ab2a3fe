using System.Text.Json;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// Issue 9, "no stack traces, no hangs, no aborted batches": hostile and broken inputs made here (a FIFO named like
/// a photo, an output folder that cannot exist, an unlistable class folder, a killed run's temporary files), run
/// through the real program where the finding was about the process (exit code 134, a hang).
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class HostileInputTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string Hopkins(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");

    /// <summary>INPUT/Anthony_Hopkins with two real photos.</summary>
    private string Dataset()
    {
        var dir = _tmp.Combine("raw", "Anthony_Hopkins");
        Directory.CreateDirectory(dir);
        for (int n = 1; n <= 2; n++) File.Copy(Hopkins(n), Path.Combine(dir, $"Anthony_Hopkins_000{n}.jpg"));
        return _tmp.Combine("raw");
    }

    private static void MakeFifo(string path)
    {
        Skip.If(OperatingSystem.IsWindows(), "FIFOs in the file system are a Unix thing");
        using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    private static void AssertNoStackTrace(string text) => Assert.DoesNotMatch(@"\n\s+at [\w.]+", text);

    [SkippableFact]
    public void Align_into_an_output_folder_under_a_file_is_one_line_naming_it_and_exit_2()
    {
        var store = fx.Require();
        var input = Dataset();
        var blocker = _tmp.Write("not-a-folder", "x"u8);
        var r = CliProcess.Run(["align", input, Path.Combine(blocker, "out"), "--models-dir", store.Directory]);
        output.WriteLine(r.Both);
        Assert.Equal(2, r.ExitCode); // was 134: an AggregateException's stack trace
        Assert.Contains($"cannot write to the output folder {Path.Combine(blocker, "out")}", r.Stderr);
        Assert.Contains($"{blocker} is a file, not a folder", r.Stderr);
        AssertNoStackTrace(r.Both);

        // --verbose adds the exception with its stack trace, for a bug report
        var verbose = CliProcess.Run(["align", input, Path.Combine(blocker, "out"), "--models-dir", store.Directory, "--verbose"]);
        Assert.Equal(2, verbose.ExitCode);
        Assert.Matches(@"\n\s+at FaceNetSharp\.", verbose.Stderr);
    }

    [SkippableFact]
    public void Align_into_proc_is_one_line_and_exit_2()
    {
        var store = fx.Require();
        Skip.IfNot(Directory.Exists("/proc/self"), "needs /proc (Linux), where no folder can be made");
        var r = CliProcess.Run(["align", Dataset(), "/proc/no-such-process/out", "--models-dir", store.Directory]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot write to the output folder /proc/no-such-process/out", r.Stderr);
        AssertNoStackTrace(r.Both);
    }

    [SkippableFact]
    public void A_fifo_named_like_a_photo_is_skipped_with_a_message_by_detect_and_align()
    {
        var store = fx.Require();
        var input = Dataset();
        var fifo = Path.Combine(input, "Anthony_Hopkins", "X_0001.jpg");
        MakeFifo(fifo);

        // detect: was a hang (the open of a FIFO waits for a writer)
        var detect = CliProcess.Run(["detect", "--json", fifo, Hopkins(1), "--models-dir", store.Directory], TimeSpan.FromSeconds(60));
        Assert.Equal(1, detect.ExitCode);
        using (var doc = JsonDocument.Parse(detect.Stdout))
        {
            var files = doc.RootElement;
            Assert.Equal(2, files.GetArrayLength());
            Assert.Contains("not a regular file", files[0].GetProperty("error").GetString());
            Assert.Equal(1, files[1].GetProperty("faces").GetArrayLength());
        }
        Assert.Contains("X_0001.jpg", detect.Stderr);

        // align: the FIFO is one failed item, the photos are aligned
        var outDir = _tmp.Combine("aligned");
        var align = CliProcess.Run(["align", input, outDir, "--models-dir", store.Directory], TimeSpan.FromSeconds(90));
        output.WriteLine(align.Both);
        Assert.Equal(1, align.ExitCode);
        Assert.Contains("X_0001.jpg", align.Stderr); // failed items are errors: stderr
        Assert.Contains("not a regular file", align.Stderr);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(outDir, "Anthony_Hopkins"), "*.png").Length);
    }

    [SkippableFact]
    public void A_fifo_given_as_the_pairs_file_is_refused_not_read()
    {
        var fifo = _tmp.Combine("pairs.txt");
        MakeFifo(fifo);
        var r = CliProcess.Run(["validate", _tmp.Path, "--pairs", fifo], TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a regular file", r.Stderr);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_unlistable_class_folder_is_reported_and_the_rest_aligned()
    {
        var store = fx.Require();
        // root reads every folder whatever its mode, so the run is made as 'nobody'; chmod 000 then really denies
        Skip.IfNot(CliProcess.CanRunAsOtherUser(), "needs root and setpriv to run the program as an unprivileged user");
        var input = Dataset();
        var locked = Path.Combine(input, "Locked");
        Directory.CreateDirectory(locked);
        File.Copy(Hopkins(1), Path.Combine(locked, "Locked_0001.jpg"));
        // the unprivileged user needs the MTCNN models, the temp folder and somewhere to write
        var models = _tmp.Combine("models");
        Directory.CreateDirectory(models);
        foreach (var f in Directory.GetFiles(store.Directory, "mtcnn-*")) File.Copy(f, Path.Combine(models, Path.GetFileName(f)));
        var outDir = _tmp.Combine("aligned");
        foreach (var d in Directory.GetDirectories(_tmp.Path, "*", SearchOption.AllDirectories).Append(_tmp.Path))
            File.SetUnixFileMode(d, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var r = CliProcess.Run(["align", input, outDir, "--models-dir", models], asUser: "65534",
                env: new Dictionary<string, string> { ["HOME"] = _tmp.Path, ["DOTNET_CLI_HOME"] = _tmp.Path });
            output.WriteLine(r.Both);
            Assert.Equal(1, r.ExitCode); // was 2: the whole run stopped
            Assert.Contains($"cannot list the class folder {locked}", r.Stderr);
            Assert.Equal(2, Directory.GetFiles(Path.Combine(outDir, "Anthony_Hopkins"), "*.png").Length);
            AssertNoStackTrace(r.Both);

            // a read-only output folder (what root cannot be shown): one line naming it, exit 2
            var readOnly = _tmp.Combine("read-only");
            Directory.CreateDirectory(readOnly);
            File.SetUnixFileMode(readOnly, (UnixFileMode)0b101_101_101);
            var ro = CliProcess.Run(["align", Path.Combine(input, "Anthony_Hopkins"), Path.Combine(readOnly, "out"), "--models-dir", models], asUser: "65534",
                env: new Dictionary<string, string> { ["HOME"] = _tmp.Path, ["DOTNET_CLI_HOME"] = _tmp.Path });
            output.WriteLine(ro.Both);
            Assert.Equal(2, ro.ExitCode);
            Assert.Contains($"cannot write to the output folder {Path.Combine(readOnly, "out")}", ro.Stderr);
            AssertNoStackTrace(ro.Both);
        }
        finally
        {
            File.SetUnixFileMode(locked, (UnixFileMode)0b111_101_101);
        }
    }

    [SkippableFact]
    public void Align_removes_the_temporary_files_a_killed_run_left_and_nothing_else()
    {
        var store = fx.Require();
        var input = Dataset();
        var outDir = _tmp.Combine("aligned");
        var cls = Path.Combine(outDir, "Anthony_Hopkins");
        Directory.CreateDirectory(cls);
        // what AtomicFile leaves when killed while writing: .NAME.<32 hex>.tmp, part of a PNG
        var leftover = Path.Combine(cls, ".Anthony_Hopkins_0001.png.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllBytes(leftover, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var leftoverAtRoot = Path.Combine(outDir, ".bounding_boxes_00001.txt.fedcba9876543210fedcba9876543210.tmp");
        File.WriteAllBytes(leftoverAtRoot, [1, 2, 3]);
        // not of its pattern, or still being written by a live process (held open): kept
        var foreign = Path.Combine(cls, ".someone-else.tmp");
        File.WriteAllBytes(foreign, [1]);
        var plain = Path.Combine(cls, "Anthony_Hopkins_0009.png.0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllBytes(plain, [1]);
        var live = Path.Combine(cls, ".Anthony_Hopkins_0002.png.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tmp");
        using (var writer = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            writer.Write([1, 2, 3]);
            writer.Flush();
            var r = CliRunner.Run("align", input, outDir, "--models-dir", store.Directory);
            Assert.True(r.ExitCode == 0, r.Console);
        }
        Assert.False(File.Exists(leftover));
        Assert.False(File.Exists(leftoverAtRoot));
        Assert.True(File.Exists(foreign));
        Assert.True(File.Exists(plain));
        Assert.True(File.Exists(live));
        Assert.Equal(2, Directory.GetFiles(cls, "*.png").Length);
    }

    [Theory]
    [InlineData("align")]
    [InlineData("embed")]
    [InlineData("cluster")]
    public void An_empty_folder_is_no_images_found_exit_2_and_nothing_written(string command)
    {
        var empty = _tmp.Combine("empty");
        Directory.CreateDirectory(empty);
        Directory.CreateDirectory(Path.Combine(empty, "Nobody")); // a class folder without images
        var outPath = _tmp.Combine("out");
        string[] args = command switch
        {
            "embed" => ["embed", empty, "--out", outPath + ".csv", "--models-dir", _tmp.Combine("no-models")],
            _ => [command, empty, outPath, "--models-dir", _tmp.Combine("no-models")],
        };
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"no images found under {empty}", r.Console);
        Assert.False(Directory.Exists(outPath));
        Assert.False(File.Exists(outPath + ".csv"));
        Assert.False(Directory.Exists(_tmp.Combine("no-models"))); // refused before any model is opened
    }

    [Fact]
    public void Unknown_options_among_image_files_are_usage_errors()
    {
        var a = _tmp.Write("a.jpg", "x"u8);
        foreach (var args in new[]
        {
            new[] { "compare", a, a, "--formt", "json" },
            new[] { "detect", a, "--jsn" },
            new[] { "gallery", "identify", a, "--tpo", "3" },
            new[] { "gallery", "add", "Someone", a, "--modle", "dlib" },
        })
        {
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}\n{r.Console}");
            Assert.Contains($"unknown option '{args.First(x => x.StartsWith("--", StringComparison.Ordinal))}'", r.Console);
        }
        Assert.Contains("unknown option '--formt' (did you mean --format?", CliRunner.Run("compare", a, a, "--formt", "json").Console);
    }

    [Fact]
    public void A_stray_argument_is_a_usage_error_with_exit_2()
    {
        var r = CliRunner.Run("align", "a", "b", "c");
        Assert.Equal(2, r.ExitCode); // System.CommandLine's own answer was 1, and the help text
        Assert.Contains("'c'", r.Console);
        Assert.Contains("facenet align --help", r.Console);
    }

    [SkippableFact]
    public void Validate_with_a_photo_as_pairs_file_shows_a_printable_excerpt()
    {
        var r = CliProcess.Run(["validate", _tmp.Path, "--pairs", Hopkins(1)]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a text pairs file", r.Stderr);
        Assert.Contains(@"\x00\x10JFIF", r.Stderr);
        Assert.DoesNotContain('\0', r.Both);
        Assert.True(r.Stderr.Length < 600, r.Stderr);
    }

    [SkippableFact]
    public void Validate_names_the_missing_images_when_none_of_the_pairs_exist()
    {
        var store = fx.Require();
        var pairs = _tmp.Write("pairs.txt", "Alice\t1\t2\nAlice\t1\tBob\t1\n"u8);
        var chips = _tmp.Combine("chips");
        Directory.CreateDirectory(chips);
        var r = CliRunner.Run("validate", chips, "--pairs", pairs, "--models-dir", store.Directory, "--folds", "2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"none of the 2 pairs has its images under {chips}", r.Console);
        Assert.Contains("Alice/Alice_0001.{jpg,png}", r.Console);
        Assert.Contains("Bob/Bob_0001", r.Console);
    }

    [Fact]
    public void Validate_caches_aligned_chips_under_the_user_cache_folder_not_beside_the_dataset()
    {
        var info = FaceNetSharp.Embedding.Embedders.Describe("mobilefacenet");
        var a = FaceNetSharp.Cli.Commands.ValidateCommand.DefaultAlignedDir("/data/one/lfw", info);
        var b = FaceNetSharp.Cli.Commands.ValidateCommand.DefaultAlignedDir("/data/two/lfw", info);
        Assert.DoesNotContain("/data/", a);
        Assert.NotEqual(a, b); // same folder name, other dataset
        Assert.Equal(a, FaceNetSharp.Cli.Commands.ValidateCommand.DefaultAlignedDir("/data/one/lfw/", info));
        Assert.Contains(Path.Combine("facenetsharp", "aligned", "lfw-arcface112-112-"), a);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var cache = !string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        Assert.StartsWith(cache, a);
    }
}
