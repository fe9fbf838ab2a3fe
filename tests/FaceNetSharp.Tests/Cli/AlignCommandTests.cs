using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Cli;

/// <summary><c>facenet align</c> end to end on real photos plus bad files made here, as a user would run it.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class AlignCommandTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fns-align").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Input => Path.Combine(_root, "raw");
    private string Output => Path.Combine(_root, "aligned");

    private void MakeDataset()
    {
        var hopkins = TestPaths.Shared("faces", "facenet-sandberg", "data", "images");
        Directory.CreateDirectory(Path.Combine(Input, "Anthony_Hopkins"));
        foreach (var f in Directory.GetFiles(hopkins, "*.jpg"))
            File.Copy(f, Path.Combine(Input, "Anthony_Hopkins", Path.GetFileName(f)));
        var group = Path.Combine(Input, "Group");
        Directory.CreateDirectory(group);
        File.Copy(TestPaths.Shared("faces", "facenet-pytorch-test-images", "data", "multiface.jpg"), Path.Combine(group, "multiface.jpg"));
        var bad = Path.Combine(Input, "Bad");
        Directory.CreateDirectory(bad);
        var jpeg = File.ReadAllBytes(Path.Combine(hopkins, "Anthony_Hopkins_0001.jpg"));
        File.WriteAllBytes(Path.Combine(bad, "truncated.jpg"), jpeg[..(jpeg.Length / 3)]);
        File.WriteAllText(Path.Combine(bad, "notes.jpg"), "not an image at all");
        File.WriteAllBytes(Path.Combine(bad, "empty.jpg"), []);
        // A PNG named .jpg is decoded by content; a grey picture has no face.
        var grey = new RgbImage(200, 200, Enumerable.Repeat((byte)90, 200 * 200 * 3).ToArray());
        File.WriteAllBytes(Path.Combine(bad, "grey_png.jpg"), ImageWriter.Encode(grey, ImageFileFormat.Png));
    }

    [SkippableFact]
    public void AlignsTree_ReportsBadFiles_AndResumes()
    {
        fx.Require();
        MakeDataset();
        var first = CliRunner.Run("align", Input, Output, "--image-size", "160", "--margin", "32", "--seed", "7");
        output.WriteLine(first.Console);
        Assert.Equal(1, first.ExitCode); // some files failed

        // Same class-folder tree, .png outputs, 160x160.
        foreach (var name in new[] { "Anthony_Hopkins/Anthony_Hopkins_0001.png", "Anthony_Hopkins/Anthony_Hopkins_0002.png", "Group/multiface.png" })
        {
            var chip = ImageLoader.Load(Path.Combine(Output, name));
            Assert.Equal((160, 160), (chip.Width, chip.Height));
        }
        // Each bad file is named with what is wrong; the grey PNG is a "no face", not a failure.
        Assert.Contains("truncated.jpg", first.Console);
        Assert.Contains("notes.jpg", first.Console);
        Assert.Contains("empty.jpg", first.Console);
        Assert.Matches(@"no face:.*grey_png\.jpg", first.Console.Replace("\n", " "));
        Assert.False(File.Exists(Path.Combine(Output, "Bad", "truncated.png")));

        // facenet's bounding_boxes file: one line per image, path + 4 integers for aligned ones, path alone otherwise.
        var bbFile = Assert.Single(Directory.GetFiles(Output, "bounding_boxes_*.txt"));
        var lines = File.ReadAllLines(bbFile);
        Assert.Equal(7, lines.Length);
        var hopkinsLine = lines.Single(l => l.Contains("Anthony_Hopkins_0001.png")).Split(' ');
        Assert.Equal(5, hopkinsLine.Length);
        // Box from the detector (about 75,61,173,193) widened by margin/2 = 16 and clipped: x1 = 75 - 16 = 59.
        Assert.InRange(int.Parse(hopkinsLine[1]), 55, 60);
        Assert.InRange(int.Parse(hopkinsLine[4]), 204, 214);
        Assert.Contains(lines, l => l.EndsWith("truncated.png"));

        // The group photo keeps the face facenet keeps: largest, nearest the centre (the woman in the middle, x ~ 620-700).
        var groupLine = lines.Single(l => l.Contains("multiface.png")).Split(' ');
        Assert.InRange(int.Parse(groupLine[1]), 590, 630);

        // Resume: a second run skips what exists and writes a new bounding-box file with only the retried failures.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(Output, "Group", "multiface.png"));
        var second = CliRunner.Run("align", Input, Output, "--image-size", "160", "--margin", "32", "--seed", "8");
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(Output, "Group", "multiface.png")));
        Assert.Matches(@"│\s*7\s*│\s*4\s*│\s*0\s*│\s*3\s*│", second.Console); // images, processed, aligned, skipped
        // No temporary files are left behind.
        Assert.Empty(Directory.GetFiles(Output, "*.tmp", SearchOption.AllDirectories));
    }

    [SkippableFact]
    public void DetectMultipleFaces_WritesEveryFace_Similarity112()
    {
        fx.Require();
        Directory.CreateDirectory(Path.Combine(Input, "Group"));
        File.Copy(TestPaths.Shared("faces", "facenet-pytorch-test-images", "data", "multiface.jpg"), Path.Combine(Input, "Group", "multiface.jpg"));
        var r = CliRunner.Run("align", Input, Output, "--detect-multiple-faces", "--mode", "similarity", "--template", "arcface112");
        Assert.Equal(0, r.ExitCode);
        var chips = Directory.GetFiles(Path.Combine(Output, "Group"), "multiface_*.png").Order().ToList();
        Assert.Equal(6, chips.Count);
        Assert.All(chips, c => Assert.Equal(112, ImageLoader.Load(c).Width));
    }

    [Fact]
    public void MissingInputFolder_IsAClearError()
    {
        var r = CliRunner.Run("align", Path.Combine(_root, "nowhere"), Output);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("nowhere", r.Console);
    }
}

/// <summary>A real <c>facenet align</c> process killed mid-run leaves only complete images, and a rerun finishes.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class AlignKillTests(InstalledModelsFixture fx) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fns-kill").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SkippableFact]
    public void KilledRun_LeavesNoHalfWrittenImage_AndResumes()
    {
        fx.Require();
        var src = TestPaths.Shared("faces", "facenet-pytorch-test-images", "data", "multiface.jpg");
        var input = Path.Combine(_root, "raw");
        for (int i = 0; i < 60; i++)
        {
            var dir = Path.Combine(input, $"p{i % 6}");
            Directory.CreateDirectory(dir);
            File.Copy(src, Path.Combine(dir, $"img{i:D3}.jpg"));
        }
        var output = Path.Combine(_root, "aligned");
        var cli = Path.Combine(AppContext.BaseDirectory, "facenet.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, "align", input, output, "--workers", "2" }) psi.ArgumentList.Add(a);
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && (!Directory.Exists(output) || Directory.GetFiles(output, "*.png", SearchOption.AllDirectories).Length < 5))
                Thread.Sleep(20);
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        var written = Directory.GetFiles(output, "*.png", SearchOption.AllDirectories);
        Assert.InRange(written.Length, 5, 59); // killed part-way
        foreach (var f in written)
            Assert.Equal(182, ImageLoader.Load(f).Width); // every visible output decodes whole (facenet's default size)

        var rerun = CliRunner.Run("align", input, output, "--workers", "2");
        Assert.Equal(0, rerun.ExitCode);
        Assert.Equal(60, Directory.GetFiles(output, "*.png", SearchOption.AllDirectories).Length);
        // the killed run's temporary files (.NAME.png.<guid>.tmp) were cleaned by the rerun
        Assert.Empty(Directory.GetFiles(output, ".*.tmp", SearchOption.AllDirectories));
    }

    [SkippableFact]
    public void TwoProcesses_ShareOneOutputFolder()
    {
        fx.Require();
        var src = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        var input = Path.Combine(_root, "raw2");
        for (int i = 0; i < 40; i++)
        {
            var dir = Path.Combine(input, $"p{i % 4}");
            Directory.CreateDirectory(dir);
            File.Copy(src, Path.Combine(dir, $"img{i:D3}.jpg"));
        }
        var output = Path.Combine(_root, "shared-out");
        var cli = Path.Combine(AppContext.BaseDirectory, "facenet.dll");
        var procs = Enumerable.Range(0, 2).Select(k =>
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { cli, "align", input, output, "--random-order", "--workers", "1", "--seed", k.ToString() }) psi.ArgumentList.Add(a);
            var p = System.Diagnostics.Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            return p;
        }).ToList();
        foreach (var p in procs)
        {
            Assert.True(p.WaitForExit(120_000), "align did not finish in 2 minutes");
            Assert.Equal(0, p.ExitCode);
            p.Dispose();
        }
        var written = Directory.GetFiles(output, "*.png", SearchOption.AllDirectories);
        Assert.Equal(40, written.Length);
        foreach (var f in written) Assert.Equal(182, ImageLoader.Load(f).Width);
        // Each process wrote its own bounding-box file; together they cover every image at least once.
        var boxFiles = Directory.GetFiles(output, "bounding_boxes_*.txt");
        Assert.Equal(2, boxFiles.Length);
        var covered = boxFiles.SelectMany(File.ReadAllLines).Select(l => l.Split(' ')[0]).Distinct().Count();
        Assert.Equal(40, covered);
    }
}
