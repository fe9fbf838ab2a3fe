using System.Text.Json;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Cli;

/// <summary><c>facenet cluster</c> on real photos: three people of face-api.js's examples, five photos each.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class ClusterCommandTests(InstalledModelsFixture fx)
{
    [SkippableFact]
    public void Writes_cluster_folders_contact_sheets_and_json()
    {
        var store = fx.Require();
        var images = TestPaths.Shared("faces", "face-api-js-images", "examples", "images");
        using var tmp = new TempFolder();
        var input = tmp.Combine("in");
        foreach (var person in new[] { "raj", "amy", "sheldon" })
        {
            Directory.CreateDirectory(Path.Combine(input, person));
            foreach (var f in Directory.GetFiles(Path.Combine(images, person)))
                File.Copy(f, Path.Combine(input, person, Path.GetFileName(f)));
        }
        var output = tmp.Combine("out");

        var run = CliRunner.Run("cluster", input, output, "--score", "--models-dir", store.Directory);
        Assert.True(run.ExitCode == 0, run.Console);
        Assert.Contains("pairwise precision", run.Console);

        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "clusters.json"))).RootElement;
        Assert.Equal("chinese-whispers", json.GetProperty("algorithm").GetString());
        var clusters = json.GetProperty("clusters").EnumerateArray().ToList();
        Assert.Equal(json.GetProperty("clusterCount").GetInt32(), clusters.Count(c => c.GetProperty("id").GetInt32() >= 0));
        int faces = 0;
        foreach (var c in clusters)
        {
            var folder = Path.Combine(output, c.GetProperty("folder").GetString()!);
            var members = c.GetProperty("faces").EnumerateArray().ToList();
            Assert.Equal(c.GetProperty("size").GetInt32(), members.Count);
            Assert.Equal(members.Count, Directory.GetFiles(folder, "*.png").Length);
            foreach (var m in members)
            {
                Assert.True(File.Exists(m.GetProperty("file").GetString()));
                Assert.Equal(4, m.GetProperty("box").GetArrayLength());
                var chip = ImageLoader.Load(Path.Combine(output, m.GetProperty("chip").GetString()!));
                Assert.Equal(112, chip.Width); // MobileFaceNet's chip
            }
            var sheet = ImageLoader.Load(Path.Combine(output, c.GetProperty("contactSheet").GetString()!));
            Assert.True(sheet.Width >= 112 && sheet.Height >= 112);
            faces += members.Count;
        }
        // Each of the 15 portraits has at least one face.
        Assert.True(faces >= 15, run.Console);
        Assert.True(clusters.Count >= 2, "three people should not collapse into one cluster: " + run.Console);
    }
}
