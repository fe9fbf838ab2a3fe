using System.IO.Compression;
using System.Text;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// <c>facenet models import</c> of files it rightly refuses (issue 9: the refusal was right, the stack trace was not):
/// one line naming the file and the cause, exit code 2, nothing written. The files are made here.
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

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_refused_file_is_one_line_naming_it_and_exit_2(string name, byte[] bytes, string cause)
    {
        using var tmp = new TempFolder();
        var file = tmp.Write(name, bytes);
        var onnx = tmp.Combine("out.onnx");

        var r = CliRunner.Run("models", "import", file, "--out", onnx);

        Assert.True(r.ExitCode == 2, r.Console);
        var line = Assert.Single(r.Console.Trim().Split('\n'));
        Assert.StartsWith($"error: {file}", line);
        Assert.Contains(cause, line);
        Assert.DoesNotContain("   at ", r.Console);
        Assert.False(File.Exists(onnx));
        Assert.False(File.Exists(tmp.Combine("out.card.json")));
    }
}
