using System.Text.Json;
using FaceNetSharp.Tests.Models;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// Issue 9, "machine-readable output stays machine-readable": with a failing file in the batch, the real program's
/// stdout is the JSON or CSV document alone (it parses), the failed file is in it with its error, and the lines
/// for people (errors, warnings) are on stderr.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class MachineOutputTests(InstalledModelsFixture fx, ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static string Hopkins(int n) => TestPaths.Shared("faces", "facenet-sandberg", "data", "images", $"Anthony_Hopkins_000{n}.jpg");

    private string Bad() => _tmp.Write("notes.jpg", "not an image"u8);

    [SkippableFact]
    public void Detect_json_parses_and_names_the_failed_file()
    {
        var store = fx.Require();
        var bad = Bad();
        var r = CliProcess.Run(["detect", "--json", Hopkins(1), bad, "--models-dir", store.Directory]);
        output.WriteLine(r.Both);
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var files = doc.RootElement;
        Assert.Equal(2, files.GetArrayLength());
        Assert.Equal(1, files[0].GetProperty("faces").GetArrayLength());
        Assert.False(files[0].TryGetProperty("error", out _));
        Assert.Equal(bad, files[1].GetProperty("file").GetString());
        Assert.Contains("not a supported image", files[1].GetProperty("error").GetString());
        Assert.Contains("notes.jpg", r.Stderr);
    }

    [SkippableFact]
    public void Table_output_keeps_failed_files_on_stderr()
    {
        // Without --json the tables are for people, but errors still go to stderr: a script that keeps stdout (or a
        // user who sends 2> to a log) gets the failures apart, in detect, compare and align alike.
        var store = fx.Require();
        var bad = Bad();
        var detect = CliProcess.Run(["detect", Hopkins(1), bad, "--models-dir", store.Directory]);
        output.WriteLine(detect.Both);
        Assert.Equal(1, detect.ExitCode);
        Assert.Contains("notes.jpg", detect.Stderr);
        Assert.DoesNotContain("notes.jpg", detect.Stdout);

        var compare = CliProcess.Run(["compare", Hopkins(1), bad, Hopkins(2), "--models-dir", store.Directory]);
        output.WriteLine(compare.Both);
        Assert.Equal(1, compare.ExitCode);
        Assert.Contains("notes.jpg", compare.Stderr);
        Assert.DoesNotContain("not a supported image", compare.Stdout);

        var input = _tmp.Combine("raw", "A");
        Directory.CreateDirectory(input);
        File.Copy(Hopkins(1), Path.Combine(input, "A_0001.jpg"));
        File.WriteAllText(Path.Combine(input, "A_0002.jpg"), "not an image");
        var align = CliProcess.Run(["align", _tmp.Combine("raw"), _tmp.Combine("out"), "--models-dir", store.Directory]);
        output.WriteLine(align.Both);
        Assert.Equal(1, align.ExitCode);
        Assert.Contains("A_0002.jpg", align.Stderr);
        Assert.DoesNotContain("not a supported image", align.Stdout);
    }

    [SkippableFact]
    public void Compare_json_and_csv_parse_and_list_the_failed_file_with_its_error()
    {
        var store = fx.Require();
        var bad = Bad();
        var json = CliProcess.Run(["compare", "--format", "json", Hopkins(1), bad, Hopkins(2), "--models-dir", store.Directory]);
        output.WriteLine(json.Both);
        Assert.Equal(1, json.ExitCode);
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            var root = doc.RootElement;
            Assert.Equal(2, root.GetProperty("files").GetArrayLength());
            var left = Assert.Single(root.GetProperty("left_out").EnumerateArray());
            Assert.Equal(bad, left.GetProperty("file").GetString());
            Assert.Contains("not a supported image", left.GetProperty("error").GetString());
        }
        Assert.Contains("notes.jpg", json.Stderr);

        var csv = CliProcess.Run(["compare", "--format", "csv", Hopkins(1), bad, Hopkins(2), "--models-dir", store.Directory]);
        Assert.Equal(1, csv.ExitCode);
        var rows = csv.Stdout.TrimEnd('\n').Split('\n').Select(ParseCsvLine).ToList();
        Assert.Equal(4, rows.Count); // header, two photos, the failed file
        Assert.All(rows, row => Assert.Equal(4, row.Count)); // file, two distances, error
        Assert.Equal(["file", Hopkins(1), Hopkins(2), "error"], rows[0]);
        Assert.Equal("", rows[1][3]);
        Assert.Equal(bad, rows[3][0]);
        Assert.Equal(["", ""], rows[3].Skip(1).Take(2));
        Assert.Contains("not a supported image", rows[3][3]);
        Assert.Contains("notes.jpg", csv.Stderr);
    }

    [SkippableFact]
    public void Gallery_identify_json_parses_with_an_empty_gallery_and_a_failed_file()
    {
        var store = fx.Require();
        var bad = Bad();
        var r = CliProcess.Run(["gallery", "identify", "--json", Hopkins(1), bad, "--gallery", _tmp.Combine("g.db"), "--models-dir", store.Directory]);
        output.WriteLine(r.Both);
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var files = doc.RootElement;
        Assert.Equal(2, files.GetArrayLength());
        Assert.Equal("unknown", files[0].GetProperty("faces")[0].GetProperty("name").GetString());
        Assert.Contains("not a supported image", files[1].GetProperty("error").GetString());
        Assert.Contains("is empty", r.Stderr); // the warning, not in the document
    }

    /// <summary>One RFC 4180 line: fields split at commas, double quotes around a field with commas or quotes.</summary>
    private static List<string> ParseCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}
