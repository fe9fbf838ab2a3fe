using FaceNetSharp.Evaluation;

namespace FaceNetSharp.Tests.Evaluation;

public sealed class LfwPairsTests
{
    private static LfwPairs Parse(string text) => LfwPairs.Parse(new StringReader(text), "test.txt");

    [SkippableFact]
    public void RealLfwPairsFileParsesExactly()
    {
        var path = TestPaths.Shared("faces", "facenet-sandberg", "data", "pairs.txt");
        var pairs = LfwPairs.Load(path);

        Assert.True(pairs.HasHeader);
        Assert.Equal(10, pairs.Folds);
        Assert.Equal(300, pairs.PairsPerFold);
        Assert.Equal(6000, pairs.Pairs.Count);
        Assert.Equal(3000, pairs.SameCount);
        Assert.Equal(3000, pairs.DifferentCount);
        for (int f = 0; f < 10; f++)
        {
            var fold = pairs.Pairs.Where(p => p.Fold == f).ToList();
            Assert.Equal(600, fold.Count);
            Assert.All(fold.Take(300), p => Assert.True(p.IsSame));
            Assert.All(fold.Skip(300), p => Assert.False(p.IsSame));
        }

        // first line after the header: "Abel_Pacheco\t1\t4"
        var first = pairs.Pairs[0];
        Assert.Equal(new LfwImageKey("Abel_Pacheco", 1), first.First);
        Assert.Equal(new LfwImageKey("Abel_Pacheco", 4), first.Second);
        Assert.Equal(2, first.LineNumber);
        Assert.Equal("Abel_Pacheco/Abel_Pacheco_0004", first.Second.RelativeStem);
        Assert.All(pairs.Pairs.Where(p => p.IsSame), p => Assert.Equal(p.First.Person, p.Second.Person));
        Assert.All(pairs.Pairs.Where(p => !p.IsSame), p => Assert.NotEqual(p.First.Person, p.Second.Person));
        Assert.Equal(6001, pairs.Pairs[^1].LineNumber);

        // facenet's KFold(10) over the 6,000 pairs in file order is exactly the file's folds
        var kfold = VerificationMetrics.Folds(6000, 10, null);
        Assert.Equal(pairs.Pairs.Select(p => p.Fold), kfold);
    }

    [Fact]
    public void AcceptsTabsSpacesCrLfAndBlankLines()
    {
        var pairs = Parse("2 1\r\nAnn\t1\t2\r\n\r\nAnn 1   Bob 3\r\nBob 2 4\r\nCid 7 Ann 2\r\n\r\n\r\n");
        Assert.Equal(2, pairs.Folds);
        Assert.Equal(4, pairs.Pairs.Count);
        Assert.Equal(new LfwPair(new("Ann", 1), new("Ann", 2), true, 0, 2), pairs.Pairs[0]);
        Assert.Equal(new LfwPair(new("Ann", 1), new("Bob", 3), false, 0, 4), pairs.Pairs[1]);
        Assert.Equal(new LfwPair(new("Bob", 2), new("Bob", 4), true, 1, 5), pairs.Pairs[2]);
        Assert.Equal(new LfwPair(new("Cid", 7), new("Ann", 2), false, 1, 6), pairs.Pairs[3]);
        Assert.Equal([true, false, true, false], pairs.SameFlags());
    }

    [Fact]
    public void FileWithoutHeaderIsOneFoldInAnyOrder()
    {
        var pairs = Parse("Ann 1 Bob 3\nAnn 1 2\nBob 1 2\n");
        Assert.False(pairs.HasHeader);
        Assert.Equal(1, pairs.Folds);
        Assert.Equal(2, pairs.PairsPerFold);
        Assert.Equal([false, true, true], pairs.SameFlags());
        Assert.All(pairs.Pairs, p => Assert.Equal(0, p.Fold));
    }

    [Fact]
    public void SingleNumberHeaderIsOneFold()
    {
        // pairsDevTrain.txt style: "N", then N same and N different lines
        var pairs = Parse("2\nAnn 1 2\nBob 1 2\nAnn 1 Bob 1\nBob 2 Ann 2\n");
        Assert.True(pairs.HasHeader);
        Assert.Equal(1, pairs.Folds);
        Assert.Equal(2, pairs.PairsPerFold);
        Assert.Equal([true, true, false, false], pairs.SameFlags());
    }

    [Theory]
    [InlineData("2 1\nAnn 1 2\nAnn 1 Bob 1\nBob 1 Ann 2\nBob 1 2\n", 4, "same-person")] // different line where same expected
    [InlineData("1 1\nAnn 1 2\nAnn 1 2\n", 3, "different-person")]
    [InlineData("1 1\nAnn x 2\nAnn 1 Bob 1\n", 2, "'x' is not an image number")]
    [InlineData("1 1\nAnn 0 2\nAnn 1 Bob 1\n", 2, "'0' is not an image number")]
    [InlineData("1 1\nAnn 1 2\nAnn 1 Bob 1\nBob 1 2\n", 4, "more lines")]
    [InlineData("1 x\nAnn 1 2\n", 1, "pairs per fold 'x'")]
    [InlineData("Ann 1 2\nAnn 1 Bob\nBob 1 2\n", 2, "'Bob' is not an image number")] // headerless: 3 fields read as a same-person line
    [InlineData("Ann 1 2\n\nAnn 1 Bob 2 9\n", 3, "got 5 fields")]
    [InlineData("a b c d e\n", 1, "got 5 fields")]
    public void MalformedLinesNameTheLine(string text, int line, string fragment)
    {
        var ex = Assert.Throws<LfwPairsFormatException>(() => Parse(text));
        Assert.Equal(line, ex.LineNumber);
        Assert.Equal("test.txt", ex.FileName);
        Assert.StartsWith($"test.txt:{line}: ", ex.Message);
        Assert.Contains(fragment, ex.Message);
    }

    [Fact]
    public void TruncatedFileReportsTheLineAfterTheLast()
    {
        // 3 lines of text ("2 1", 2 pairs) and a final newline: the missing pair would be on line 4
        var ex = Assert.Throws<LfwPairsFormatException>(() => Parse("2 1\nAnn 1 2\nAnn 1 Bob 1\n"));
        Assert.Equal(4, ex.LineNumber);
        Assert.Contains("ends after 2 pair lines", ex.Message);
    }

    [Fact]
    public void EmptyFileIsAnError()
    {
        var ex = Assert.Throws<LfwPairsFormatException>(() => Parse("\n  \n"));
        Assert.Equal(1, ex.LineNumber);
    }

    [Fact]
    public void ResolverFindsAnyExtensionAndNamesMissingImages()
    {
        var root = Directory.CreateTempSubdirectory("lfw-resolve-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "Ann"));
            Directory.CreateDirectory(Path.Combine(root, "Bob"));
            File.WriteAllBytes(Path.Combine(root, "Ann", "Ann_0001.png"), []);
            File.WriteAllBytes(Path.Combine(root, "Ann", "Ann_0001.jpg"), []); // jpg preferred over png, as facenet's add_extension
            File.WriteAllBytes(Path.Combine(root, "Ann", "Ann_0002.JPEG"), []); // extension matched case-insensitively
            File.WriteAllBytes(Path.Combine(root, "Ann", "Ann_0004.txt"), []); // not an image
            File.WriteAllBytes(Path.Combine(root, "Bob", "Bob_0001.webp"), []);
            var pairs = Parse("Ann 1 2\nAnn 1 4\nAnn 2 Bob 1\nCid 1 Bob 1\nAnn 3 Cid 1\n");

            var resolved = pairs.Resolve(root);

            Assert.Equal(2, resolved.Pairs.Count);
            Assert.Equal(Path.Combine(root, "Ann", "Ann_0001.jpg"), resolved.Pairs[0].Path1);
            Assert.Equal(Path.Combine(root, "Ann", "Ann_0002.JPEG"), resolved.Pairs[0].Path2);
            Assert.Equal(Path.Combine(root, "Bob", "Bob_0001.webp"), resolved.Pairs[1].Path2);
            Assert.Equal([2, 4, 5], resolved.SkippedPairs.Select(p => p.LineNumber));
            Assert.Equal(["Ann/Ann_0003", "Ann/Ann_0004", "Cid/Cid_0001"], resolved.MissingImages);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ResolverRejectsAMissingRoot()
    {
        var pairs = Parse("Ann 1 2\n");
        Assert.Throws<DirectoryNotFoundException>(() => pairs.Resolve(Path.Combine(Path.GetTempPath(), "no-such-lfw-" + Guid.NewGuid())));
    }
}
