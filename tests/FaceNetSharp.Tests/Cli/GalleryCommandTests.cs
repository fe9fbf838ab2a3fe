using System.Text.Json;
using FaceNetSharp.Cli;
using FaceNetSharp.Tests.Models;
using Spectre.Console.Testing;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// <c>facenet gallery</c> end to end on real photos (face_recognition's knn example): a real SQLite file in a temp
/// folder, the installed models, every subcommand through the parser.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class GalleryCommandTests(InstalledModelsFixture fx)
{
    private static string Knn(params string[] parts) =>
        TestPaths.Shared(["faces", "face_recognition-examples", "examples", "knn_examples", .. parts]);

    [SkippableFact]
    public void Add_identify_list_remove_export_import()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        string[] common = ["--gallery", db, "--models-dir", store.Directory];

        var add = CliRunner.Run(["gallery", "add", "Obama", Knn("train", "obama", "obama.jpg"), Knn("train", "obama", "obama2.jpg"), .. common]);
        Assert.True(add.ExitCode == 0, add.Console);
        Assert.Contains("Obama: 2 face(s) added", add.Console);
        add = CliRunner.Run(["gallery", "add", "Biden", Knn("train", "biden", "biden.jpg"), Knn("train", "biden", "biden2.jpg"), .. common]);
        Assert.True(add.ExitCode == 0, add.Console);

        // Obama's test photo is Obama; Kit Harington and Rose Leslie were never enrolled: unknown.
        var identify = CliRunner.Run(["gallery", "identify", Knn("test", "obama1.jpg"), Knn("test", "kit_with_rose.jpg"), "--top", "2", "--json", .. common]);
        Assert.True(identify.ExitCode == 0, identify.Console);
        var files = JsonDocument.Parse(identify.Out).RootElement;
        Assert.Equal(2, files.GetArrayLength());
        var obama = files[0].GetProperty("faces");
        Assert.Equal(1, obama.GetArrayLength());
        Assert.Equal("Obama", obama[0].GetProperty("name").GetString());
        Assert.True(obama[0].GetProperty("known").GetBoolean());
        Assert.Equal(2, obama[0].GetProperty("candidates").GetArrayLength());
        var strangers = files[1].GetProperty("faces");
        Assert.True(strangers.GetArrayLength() >= 1);
        Assert.All(strangers.EnumerateArray(), f => Assert.Equal("unknown", f.GetProperty("name").GetString()));

        var list = CliRunner.Run(["gallery", "list", .. common]);
        Assert.True(list.ExitCode == 0, list.Console);
        Assert.Contains("2 people, 4 faces", list.Console);

        var export = tmp.Combine("export.json");
        Assert.Equal(0, CliRunner.Run(["gallery", "export", export, .. common]).ExitCode);
        Assert.True(File.Exists(export));

        var remove = CliRunner.Run(["gallery", "remove", "Biden", .. common]);
        Assert.True(remove.ExitCode == 0, remove.Console);
        Assert.Contains("1 person, 2 faces", CliRunner.Run(["gallery", "list", .. common]).Console);
        Assert.Equal(1, CliRunner.Run(["gallery", "remove", "Biden", .. common]).ExitCode);

        // The export restores both people into a fresh gallery, which identifies as the original did.
        var db2 = tmp.Combine("restored.db");
        string[] common2 = ["--gallery", db2, "--models-dir", store.Directory];
        var import = CliRunner.Run(["gallery", "import", export, .. common2]);
        Assert.True(import.ExitCode == 0, import.Console);
        Assert.Contains("imported 4 face(s)", import.Console);
        var again = CliRunner.Run(["gallery", "identify", Knn("test", "obama1.jpg"), "--json", .. common2]);
        Assert.Equal("Obama", JsonDocument.Parse(again.Out).RootElement[0].GetProperty("faces")[0].GetProperty("name").GetString());
    }

    [SkippableFact]
    public void A_gallery_of_another_model_is_a_clear_error()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var db = tmp.Combine("gallery.db");
        Assert.Equal(0, CliRunner.Run("gallery", "add", "Obama", Knn("train", "obama", "obama.jpg"), "--gallery", db, "--models-dir", store.Directory).ExitCode);

        var wrong = CliRunner.Run("gallery", "identify", Knn("test", "obama1.jpg"), "--model", "dlib", "--gallery", db, "--models-dir", store.Directory);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("was built with model", wrong.Console);
        Assert.Contains("use --model mobilefacenet", wrong.Console);
        Assert.Equal(2, CliRunner.Run("gallery", "list", "--model", "dlib", "--gallery", db).ExitCode);
    }

    [SkippableFact]
    public void Bad_files_and_photos_without_faces_are_reported_and_the_rest_enrolled()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var notAnImage = tmp.Combine("notes.jpg");
        File.WriteAllText(notAnImage, "not an image");
        // face-api.js's test set has a plain white picture: it loads, but has no face.
        var white = TestPaths.Shared("faces", "face-api-js-images", "test", "images", "white.png");
        var db = tmp.Combine("gallery.db");

        var add = CliRunner.Run("gallery", "add", "Obama", notAnImage, white, Knn("train", "obama", "obama.jpg"), "--gallery", db, "--models-dir", store.Directory);
        Assert.Equal(1, add.ExitCode);
        Assert.Contains("failed:", add.Console);
        Assert.Contains("notes.jpg", add.Console);
        Assert.Contains("no face:", add.Console);
        Assert.Contains("Obama: 1 face(s) added", add.Console);
    }
}
