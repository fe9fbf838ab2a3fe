using System.Net;
using System.Text.RegularExpressions;
using FaceNetSharp.Imaging;
using FaceNetSharp.Tests.Models;

namespace FaceNetSharp.Tests.Embedding;

/// <summary>The example in <see cref="FaceRecognizer"/>'s XML documentation, compiled and run on real photos.</summary>
[Collection(InstalledModelsCollection.Name)]
public sealed partial class FaceRecognizerExampleTests(InstalledModelsFixture models)
{
    // The example's statements exactly as below, with the file names "a.jpg" and "b.jpg" replaced by variables.
    private static bool Example(string aJpg, string bJpg)
    {
        using var faces = FaceRecognizer.Open();                 // the models installed in the per-user cache
        var a = faces.EmbedLargestFace(ImageLoader.Load(aJpg));
        var b = faces.EmbedLargestFace(ImageLoader.Load(bJpg));
        bool same = a is not null && b is not null && faces.IsSamePerson(a.Vector, b.Vector);
        return same;
    }

    [SkippableFact]
    public void The_documented_example_is_this_code()
    {
        var source = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "FaceNetSharp", "FaceRecognizer.cs"));
        var doc = CodeBlock().Match(source);
        Assert.True(doc.Success, "FaceRecognizer.cs has no <code> example");
        var documented = Lines(WebUtility.HtmlDecode(doc.Groups[1].Value.Replace("///", "")));
        var mine = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "FaceNetSharp.Tests", "Embedding", "FaceRecognizerExampleTests.cs"));
        var body = mine[(mine.IndexOf("bool Example(", StringComparison.Ordinal))..];
        body = body[(body.IndexOf('{') + 1)..body.IndexOf("return same;", StringComparison.Ordinal)];
        Assert.Equal(documented, Lines(body.Replace("(aJpg)", "(\"a.jpg\")").Replace("(bJpg)", "(\"b.jpg\")")));
    }

    [SkippableFact]
    public void The_documented_example_runs_and_tells_same_from_different()
    {
        models.Require(); // the example opens the default store, the one the fixture installs into
        var hopkins1 = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0001.jpg");
        var hopkins2 = TestPaths.Shared("faces", "facenet-sandberg", "data", "images", "Anthony_Hopkins_0002.jpg");
        var biden = TestPaths.Shared("faces", "face_recognition-examples", "examples", "biden.jpg");
        Assert.True(Example(hopkins1, hopkins2));
        Assert.False(Example(hopkins1, biden));
    }

    private static string[] Lines(string code) =>
        code.Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0).ToArray();

    [GeneratedRegex(@"<code>(.*?)</code>", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
