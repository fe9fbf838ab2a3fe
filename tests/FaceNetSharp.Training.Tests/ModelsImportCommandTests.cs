using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace FaceNetSharp.Training.Tests;

/// <summary>
/// <c>facenet models import</c> of files it rightly refuses (issue 9: the refusal was right, the stack trace was not):
/// one line naming the file and the cause, exit code 2, nothing written. The files are made here. The command is the
/// training add-on's (facenet runs facenet-train for it), so it runs here as <c>facenet models import</c> in a process.
/// </summary>
public sealed class ModelsImportCommandTests
{
    /// <summary>posix.system('echo pwned'): the classic pickle payload.</summary>
    private static byte[] EvilPickle()
    {
        var pkl = new List<byte> { 0x80, 2 };
        pkl.AddRange(Encoding.ASCII.GetBytes("cposix\nsystem\n"));
        pkl.AddRange(new byte[] { (byte)'X', 10, 0, 0, 0 });
        pkl.AddRange("echo pwned"u8.ToArray());
        pkl.AddRange(new byte[] { 0x85, (byte)'R', (byte)'.' });
        return [.. pkl];
    }

    private static byte[] EvilZip()
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var e = zip.CreateEntry("archive/data.pkl").Open()) e.Write(EvilPickle());
        return ms.ToArray();
    }

    public static TheoryData<string, byte[], string> Refused() => new()
    {
        { "empty.pt", [], "the file is empty" },
        { "garbage.pt", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("not a torch file ", 100))), "neither a PyTorch zip archive nor a legacy torch.save pickle" },
        // a zip signature and nothing of a zip after it
        { "broken-zip.pt", [(byte)'P', (byte)'K', 3, 4, .. Enumerable.Repeat((byte)0xAB, 300)], "not a readable PyTorch state dict" },
        // a pickle opcode start, then random bytes
        { "random.pt", [0x80, .. new Random(4).GetItems(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 4096)], "" },
        { "evil-legacy.pt", EvilPickle(), "refused the Python global 'posix.system'" },
        { "evil-zip.pt", EvilZip(), "refused the Python global 'posix.system'" },
    };

    private static (int ExitCode, string Console) Facenet(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(CliLibtorchTests.FacenetDll());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "facenet models import did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result + stderr);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_refused_file_is_one_line_naming_it_and_exit_2(string name, byte[] bytes, string cause)
    {
        var tmp = Directory.CreateTempSubdirectory("fns-import-").FullName;
        try
        {
            var file = Path.Combine(tmp, name);
            File.WriteAllBytes(file, bytes);
            var onnx = Path.Combine(tmp, "out.onnx");

            var (exitCode, console) = Facenet("models", "import", file, "--out", onnx);

            Assert.True(exitCode == 2, console);
            var line = Assert.Single(console.Trim().Split('\n'));
            Assert.StartsWith($"error: {file}", line);
            Assert.Contains(cause, line);
            Assert.DoesNotContain("   at ", console);
            Assert.False(File.Exists(onnx));
            Assert.False(File.Exists(Path.Combine(tmp, "out.card.json")));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }
}
