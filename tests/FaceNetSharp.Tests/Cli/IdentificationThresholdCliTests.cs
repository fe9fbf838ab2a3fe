using System.Text.Json;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Cli;

/// <summary>
/// 1:N identification with the gallery-size-aware threshold (issue 10, section 2), end to end on real ORL photos
/// (40 people x 10 greyscale photos, raw: MTCNN finds and aligns each face): strangers that the 1:1 threshold named as
/// someone are refused by default, enrolled people are still named, and <c>gallery evaluate</c> measures FPIR/FNIR.
/// </summary>
[Collection(InstalledModelsCollection.Name)]
public sealed class IdentificationThresholdCliTests(InstalledModelsFixture fx)
{
    private static string Orl(int person, int photo) => TestPaths.Shared("faces", "orl-att-faces", "orl_faces", $"s{person}", $"{photo}.pgm");

    /// <summary>How many faces of the identify JSON were named, and the operating point it reports.</summary>
    private static (int Named, int Right, int Faces, string OperatingPoint) Named(string json, Func<string, string?> truth)
    {
        int named = 0, right = 0, faces = 0;
        string op = "";
        foreach (var file in JsonDocument.Parse(json).RootElement.EnumerateArray())
        {
            op = file.GetProperty("operating_point").GetString()!;
            foreach (var face in file.GetProperty("faces").EnumerateArray())
            {
                faces++;
                if (!face.GetProperty("known").GetBoolean()) continue;
                named++;
                if (face.GetProperty("name").GetString() == truth(file.GetProperty("file").GetString()!)) right++;
            }
        }
        return (named, right, faces, op);
    }

    [SkippableFact]
    public void Strangers_named_at_the_one_to_one_threshold_are_refused_at_the_default_and_enrolled_people_still_named()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        string[] common = ["--gallery", tmp.Combine("gallery.db"), "--models-dir", store.Directory];
        // Ten people enrolled with five photos each: 50 faces.
        for (int p = 1; p <= 10; p++)
        {
            var add = CliRunner.Run(["gallery", "add", $"s{p}", .. Enumerable.Range(1, 5).Select(i => Orl(p, i)), .. common]);
            Assert.True(add.ExitCode == 0, add.Console);
        }
        // Strangers: three photos each of ten people never enrolled.
        var strangers = Enumerable.Range(11, 10).SelectMany(p => Enumerable.Range(1, 3).Select(i => Orl(p, i))).ToArray();
        var old = CliRunner.Run(["gallery", "identify", .. strangers, "--json", "--threshold", "0.59", .. common]);
        Assert.True(old.ExitCode == 0, old.Console);
        var atOld = Named(old.Out, _ => null);
        Assert.Equal(30, atOld.Faces);
        // The 1:1 threshold (balanced accuracy) names many strangers as an enrolled person.
        Assert.True(atOld.Named >= 3, $"{atOld.Named} of 30 strangers named at 0.59");
        Assert.Contains("(given)", atOld.OperatingPoint);

        var now = CliRunner.Run(["gallery", "identify", .. strangers, "--json", .. common]);
        Assert.True(now.ExitCode == 0, now.Console);
        var atDefault = Named(now.Out, _ => null);
        Assert.Equal(0, atDefault.Named);
        Assert.Contains("for FPIR 1% at 10 people", atDefault.OperatingPoint);

        // The enrolled people's other photos: still named, and named right.
        var enrolled = Enumerable.Range(1, 10).SelectMany(p => new[] { Orl(p, 7), Orl(p, 9) }).ToArray();
        var known = CliRunner.Run(["gallery", "identify", .. enrolled, "--json", .. common]);
        var atKnown = Named(known.Out, f => Path.GetFileName(Path.GetDirectoryName(f)));
        Assert.True(atKnown.Right >= 16, $"{atKnown.Right} of 20 enrolled photos named right ({atKnown.Named} named)");
        Assert.Equal(atKnown.Named, atKnown.Right);

        // The text answer says which operating point was used; --far picks another; bad rates are usage errors.
        var text = CliRunner.Run(["gallery", "identify", Orl(11, 1), .. common]);
        Assert.Contains("for FPIR 1% at 10 people", text.Console);
        var far = CliRunner.Run(["gallery", "identify", Orl(11, 1), "--far", "0.001", .. common]);
        Assert.Contains("for FAR 1.0e-03 per comparison", far.Console);
        Assert.Equal(2, CliRunner.Run(["gallery", "identify", Orl(11, 1), "--fpir", "2", .. common]).ExitCode);
        Assert.Equal(2, CliRunner.Run(["gallery", "identify", Orl(11, 1), "--fpir", "0.01", "--far", "0.001", .. common]).ExitCode);
    }

    [SkippableFact]
    public void Classify_predict_refuses_strangers_at_the_fpir_operating_point_and_says_so()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        // Trained on 10 ORL people x 5 photos; predicted on 3 other photos of them and of 10 people never trained on.
        string train = tmp.Combine("train"), test = tmp.Combine("test");
        for (int p = 1; p <= 20; p++)
        {
            if (p <= 10)
            {
                Directory.CreateDirectory(Path.Combine(train, $"s{p}"));
                for (int i = 1; i <= 5; i++) File.Copy(Orl(p, i), Path.Combine(train, $"s{p}", $"{i}.pgm"));
            }
            Directory.CreateDirectory(Path.Combine(test, $"s{p}"));
            for (int i = 6; i <= 8; i++) File.Copy(Orl(p, i), Path.Combine(test, $"s{p}", $"{i}.pgm"));
        }
        var file = tmp.Combine("knn.json");
        var trained = CliRunner.Run("classify", "train", train, file, "--models-dir", store.Directory);
        Assert.True(trained.ExitCode == 0, trained.Console);

        static int StrangersNamed(CliRunner.Result r) =>
            r.Console.Split('\n').Count(l => l.Contains("not enrolled", StringComparison.Ordinal) && l.Contains(" wrong ", StringComparison.Ordinal));
        var old = CliRunner.Run("classify", "predict", test, file, "--unknown-threshold", "0.59", "--models-dir", store.Directory);
        Assert.True(old.ExitCode == 0, old.Console);
        Assert.True(StrangersNamed(old) >= 3, old.Console);
        var now = CliRunner.Run("classify", "predict", test, file, "--models-dir", store.Directory);
        Assert.True(now.ExitCode == 0, now.Console);
        Assert.Contains("for FPIR 1% at 10 classes", now.Console);
        Assert.Equal(0, StrangersNamed(now));
        Assert.Equal(2, CliRunner.Run("classify", "predict", test, file, "--far", "-1", "--models-dir", store.Directory).ExitCode);
    }

    [SkippableFact]
    public void Cluster_far_joins_faces_at_that_operating_point_and_says_so()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        var input = tmp.Combine("in");
        for (int p = 1; p <= 4; p++)
        {
            Directory.CreateDirectory(Path.Combine(input, $"s{p}"));
            for (int i = 1; i <= 3; i++) File.Copy(Orl(p, i), Path.Combine(input, $"s{p}", $"{i}.pgm"));
        }
        var run = CliRunner.Run("cluster", input, tmp.Combine("out"), "--far", "0.001", "--models-dir", store.Directory);
        Assert.True(run.ExitCode == 0, run.Console);
        Assert.Contains("for FAR 1.0e-03 per comparison", run.Console);
        var plain = CliRunner.Run("cluster", input, tmp.Combine("out2"), "--models-dir", store.Directory);
        Assert.Contains("the model's 1:1 same-person threshold", plain.Console);
    }

    /// <summary>The default's rates on one labelled folder of ../shared, by gallery evaluate at its default settings (or <paramref name="enrol"/>).</summary>
    private (double Fpir, double Fnir, string Json) DefaultRates(string folder, int enrol)
    {
        var store = fx.Require();
        var run = CliRunner.Run("gallery", "evaluate", folder, "--enrol", enrol.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--json", "--models-dir", store.Directory);
        Assert.True(run.ExitCode == 0, run.Console);
        var doc = JsonDocument.Parse(run.Out).RootElement;
        var row = doc.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("label").GetString()!.StartsWith("default:", StringComparison.Ordinal));
        return (row.GetProperty("fpir").GetDouble(), row.GetProperty("fnir").GetDouble(), run.Out);
    }

    /// <summary>
    /// The goal, FPIR at most 1% with FNIR at most 2%, at the default (FPIR 1%) on all 40 ORL people (hold-out
    /// 0.5, 5 photos enrolled, 5 draws: 1,000 stranger and 500 enrolled searches). With the points weighted per photo
    /// pair and N = enrolled faces it was FPIR 0, FNIR 9/500 (1.8%): within the goal, but only just.
    /// </summary>
    [SkippableFact]
    public void The_default_keeps_strangers_out_without_missing_enrolled_people_on_orl()
    {
        var (fpir, fnir, json) = DefaultRates(TestPaths.Shared("faces", "orl-att-faces", "orl_faces"), enrol: 5);
        Assert.True(fpir <= 0.01, json);
        Assert.True(fnir <= 0.02, json);
    }

    /// <summary>
    /// The same on face-api.js's 8 people (raw photos of the Big Bang Theory cast, 4 to 6 each; 3 enrolled). With the
    /// points weighted per photo pair (97% kz-celebs) and N = enrolled faces the default missed 4 of 34 enrolled
    /// searches (11.8%); now none, and still no stranger named.
    /// </summary>
    [SkippableFact]
    public void The_default_keeps_strangers_out_without_missing_enrolled_people_on_face_api_people()
    {
        var (fpir, fnir, json) = DefaultRates(TestPaths.Shared("faces", "face-api-js-images", "examples", "images"), enrol: 3);
        Assert.True(fpir <= 0.01, json);
        Assert.True(fnir <= 0.02, json);
    }

    [SkippableFact]
    public void Evaluate_reports_fpir_fnir_and_dir_on_a_labelled_folder_and_suggests_a_threshold()
    {
        var store = fx.Require();
        using var tmp = new TempFolder();
        // 20 ORL people x 8 photos: each draw enrols 10 people with 5 photos, holds 10 out as strangers.
        var root = tmp.Combine("orl");
        for (int p = 1; p <= 20; p++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"s{p}"));
            for (int i = 1; i <= 8; i++) File.Copy(Orl(p, i), Path.Combine(root, $"s{p}", $"{i}.pgm"));
        }
        var run = CliRunner.Run("gallery", "evaluate", root, "--enrol", "5", "--hold-out", "0.5", "--draws", "3", "--seed", "1",
            "--json", "--models-dir", store.Directory);
        Assert.True(run.ExitCode == 0, run.Console);
        var doc = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(20, doc.GetProperty("people").GetInt32());
        Assert.All(doc.GetProperty("enrolled_faces").EnumerateArray(), n => Assert.Equal(50, n.GetInt32()));
        Assert.Equal(3 * 10 * 3, doc.GetProperty("mated_searches").GetInt32());      // 10 enrolled x 3 other photos, 3 draws
        Assert.Equal(3 * 10 * 8, doc.GetProperty("non_mated_searches").GetInt32());  // 10 strangers x 8 photos, 3 draws
        Assert.Contains("for FPIR 1% at 10 people", doc.GetProperty("default_operating_point").GetString());
        var rows = doc.GetProperty("rows").EnumerateArray().ToList();
        var byLabel = rows.ToDictionary(r => r.GetProperty("label").GetString()!.Split(':')[0], r => r);
        // The default keeps strangers out; the 1:1 threshold lets many in; every rate is a rate.
        Assert.True(byLabel["default"].GetProperty("fpir").GetDouble() <= 0.01, run.Out);
        Assert.True(byLabel["default"].GetProperty("dir").GetDouble() >= 0.8, run.Out);
        Assert.True(byLabel["the model's 1"].GetProperty("fpir").GetDouble() >= 0.1, run.Out);
        Assert.All(rows, r =>
        {
            Assert.InRange(r.GetProperty("fpir").GetDouble(), 0, 1);
            Assert.Equal(1 - r.GetProperty("fnir").GetDouble(), r.GetProperty("dir").GetDouble(), 9);
        });
        // The suggestion keeps FPIR at most 1% on this data, and is no stricter than it needs to be among the rows.
        float suggested = doc.GetProperty("suggested_threshold").GetSingle();
        Assert.True(byLabel["suggested"].GetProperty("fpir").GetDouble() <= 0.01);
        Assert.Equal(suggested, byLabel["suggested"].GetProperty("threshold").GetSingle());

        // As a real process: stdout is the JSON alone (progress and counts go to stderr).
        var process = CliProcess.Run(["gallery", "evaluate", root, "--enrol", "5", "--draws", "1", "--json", "--models-dir", store.Directory],
            TimeSpan.FromSeconds(300));
        Assert.True(process.ExitCode == 0, process.Both);
        Assert.Equal(20, JsonDocument.Parse(process.Stdout).RootElement.GetProperty("people").GetInt32());
        Assert.Contains("20 people, 160 images", process.Stderr);

        // Text: a table and the suggestion line; a folder of one person is a usage error.
        var text = CliRunner.Run("gallery", "evaluate", root, "--enrol", "5", "--draws", "1", "--models-dir", store.Directory);
        Assert.Contains("suggested: --threshold", text.Console);
        Assert.Equal(2, CliRunner.Run("gallery", "evaluate", Path.Combine(root, "s1"), "--models-dir", store.Directory).ExitCode);
    }

    /// <summary>
    /// gallery evaluate loaded its folder without the unreadable callback: a person folder it could not list stopped the
    /// whole run. Now it is left out and named on stderr, as is an image that cannot be read; the rest is measured,
    /// stdout stays valid JSON and the exit code is 1.
    /// </summary>
    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Evaluate_names_an_unlistable_person_folder_and_an_unreadable_image_on_stderr_and_measures_the_rest()
    {
        var store = fx.Require();
        // root reads every folder whatever its mode, so the run is made as 'nobody'; chmod 000 then really denies
        Skip.IfNot(CliProcess.CanRunAsOtherUser(), "needs root and setpriv to run the program as an unprivileged user");
        using var tmp = new TempFolder();
        var root = tmp.Combine("people");
        for (int p = 1; p <= 4; p++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"s{p}"));
            for (int i = 1; i <= 6; i++) File.Copy(Orl(p, i), Path.Combine(root, $"s{p}", $"{i}.pgm"));
        }
        var broken = Path.Combine(root, "s1", "broken.jpg");
        File.WriteAllText(broken, "not an image");
        var locked = Path.Combine(root, "Locked");
        Directory.CreateDirectory(locked);
        File.Copy(Orl(5, 1), Path.Combine(locked, "1.pgm"));
        // the unprivileged user needs the models and the temp folder
        var models = tmp.Combine("models");
        Directory.CreateDirectory(models);
        foreach (var f in Directory.GetFiles(store.Directory).Where(f => Path.GetFileName(f).StartsWith("mtcnn-", StringComparison.Ordinal) ||
                     Path.GetFileName(f).StartsWith("mobilefacenet", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(models, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(tmp.Path, "*", SearchOption.AllDirectories).Append(tmp.Path))
            File.SetUnixFileMode(d, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var r = CliProcess.Run(["gallery", "evaluate", root, "--enrol", "3", "--draws", "1", "--json", "--models-dir", models],
                TimeSpan.FromSeconds(300), asUser: "65534", env: new Dictionary<string, string> { ["HOME"] = tmp.Path, ["DOTNET_CLI_HOME"] = tmp.Path });
            Assert.True(r.ExitCode == 1, r.Both);   // was: the whole run stopped on the locked folder
            Assert.Contains($"cannot list the class folder {locked}", r.Stderr);
            Assert.Contains(broken, r.Stderr);
            Assert.DoesNotContain("   at ", r.Both);
            var doc = JsonDocument.Parse(r.Stdout).RootElement;
            Assert.Equal(4, doc.GetProperty("people").GetInt32());
            Assert.Equal(1, doc.GetProperty("unreadable_folders").GetInt32());
            Assert.Equal(1, doc.GetProperty("unreadable_images").GetInt32());
            Assert.Equal(0, doc.GetProperty("without_face").GetInt32());
        }
        finally
        {
            File.SetUnixFileMode(locked, (UnixFileMode)0b111_101_101);
        }
    }
}
