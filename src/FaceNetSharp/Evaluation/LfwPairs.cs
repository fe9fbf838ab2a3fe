using System.Globalization;

namespace FaceNetSharp.Evaluation;

/// <summary>
/// One image of an LFW-style dataset, independent of where the images live: the person's folder name and the
/// image number (LFW stores it as <c>Name/Name_0001.jpg</c>).
/// </summary>
/// <param name="Person">The person's name as written in the pairs file (also the folder name), e.g. <c>Abel_Pacheco</c>.</param>
/// <param name="Number">The image number, 1-based as in LFW.</param>
public readonly record struct LfwImageKey(string Person, int Number)
{
    /// <summary>The file name without extension, <c>Name_0001</c> (LFW pads the number to 4 digits).</summary>
    public string FileStem => Person + "_" + Number.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>The path relative to the dataset root, without extension: <c>Name/Name_0001</c> (always '/' separated).</summary>
    public string RelativeStem => Person + "/" + FileStem;

    /// <inheritdoc/>
    public override string ToString() => RelativeStem;
}

/// <summary>One verification pair of a pairs file.</summary>
/// <param name="First">The first image.</param>
/// <param name="Second">The second image.</param>
/// <param name="IsSame">True for a same-person line (<c>Name n1 n2</c>), false for a different-person line (<c>Name1 n1 Name2 n2</c>).</param>
/// <param name="Fold">0-based fold the file places the pair in (always 0 for a file without a header).</param>
/// <param name="LineNumber">1-based line of the pairs file the pair was read from.</param>
public sealed record LfwPair(LfwImageKey First, LfwImageKey Second, bool IsSame, int Fold, int LineNumber);

/// <summary>A pairs file is malformed; the message names the file and the 1-based line.</summary>
public sealed class LfwPairsFormatException : Exception
{
    /// <summary>Creates the exception; the message is prefixed with <c>source:line:</c>.</summary>
    public LfwPairsFormatException(string source, int lineNumber, string message)
        : base($"{source}:{lineNumber}: {message}")
    {
        FileName = source;
        LineNumber = lineNumber;
    }

    /// <summary>The file (or the name the caller gave the reader) that is malformed.</summary>
    public string FileName { get; }

    /// <summary>1-based line number of the problem (the line after the last one when the file ends early).</summary>
    public int LineNumber { get; }
}

/// <summary>
/// A parsed LFW-format pairs file (the format of LFW's <c>pairs.txt</c>, which facenet's <c>lfw.read_pairs</c> reads).
/// </summary>
/// <remarks>
/// <para>Format: a header line <c>folds pairs_per_fold</c> (LFW's <c>pairs.txt</c>: <c>10 300</c>), then for each fold
/// <c>pairs_per_fold</c> same-person lines <c>Name n1 n2</c> followed by <c>pairs_per_fold</c> different-person lines
/// <c>Name1 n1 Name2 n2</c>. Fields are separated by any whitespace (tabs or spaces); blank lines are skipped;
/// CRLF line ends are accepted.</para>
/// <para>Header variants (our decision; facenet just skips the first line whatever it holds):
/// a single-number header <c>N</c> (LFW's <c>pairsDevTrain.txt</c>/<c>pairsDevTest.txt</c> style) is read as 1 fold of
/// N same then N different pairs; a file whose first non-blank line is already a pair (3 or 4 fields) has no header and is
/// read as 1 fold holding every line, same and different lines in any order. Only a file with a header is checked
/// against the header's counts and same/different order.</para>
/// </remarks>
public sealed class LfwPairs
{
    private LfwPairs(IReadOnlyList<LfwPair> pairs, int folds, int pairsPerFold, bool hasHeader)
    {
        Pairs = pairs;
        Folds = folds;
        PairsPerFold = pairsPerFold;
        HasHeader = hasHeader;
    }

    /// <summary>The pairs in file order.</summary>
    public IReadOnlyList<LfwPair> Pairs { get; }

    /// <summary>Number of folds the file declares (1 when it has no header or a single-number header).</summary>
    public int Folds { get; }

    /// <summary>Same-person pairs per fold as declared (equal to the different-person count); for a file without a header, the number of same-person pairs.</summary>
    public int PairsPerFold { get; }

    /// <summary>Whether the file starts with a header line.</summary>
    public bool HasHeader { get; }

    /// <summary>Number of same-person pairs.</summary>
    public int SameCount => Pairs.Count(p => p.IsSame);

    /// <summary>Number of different-person pairs.</summary>
    public int DifferentCount => Pairs.Count - SameCount;

    /// <summary>Reads a pairs file.</summary>
    /// <exception cref="LfwPairsFormatException">A line is malformed or the counts disagree with the header.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static LfwPairs Load(string path)
    {
        if (IO.InputFile.IsEmptyOrSpecial(path)) // a FIFO would block the read
            throw new LfwPairsFormatException(path, 1, IO.InputFile.EmptyOrSpecialProblem);
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses pairs-file text from a reader; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="LfwPairsFormatException">A line is malformed or the counts disagree with the header.</exception>
    public static LfwPairs Parse(TextReader reader, string source = "<pairs>")
    {
        var lines = new List<(int Number, string[] Fields)>();
        int lineNumber = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            // an image or other binary file given as the pairs file: say so, with a printable excerpt, not its raw bytes
            if (line.Any(ch => (char.IsControl(ch) && ch != '\t') || ch == '\uFFFD'))
                throw new LfwPairsFormatException(source, lineNumber,
                    $"this is not a text pairs file: the line holds control characters or bytes that are not UTF-8 text ({Printable(line)})");
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0) lines.Add((lineNumber, fields));
        }
        int endLine = lineNumber + 1;
        if (lines.Count == 0) throw new LfwPairsFormatException(source, 1, "the pairs file is empty");

        var (firstLine, first) = lines[0];
        if (first.Length is 3 or 4)
            return new LfwPairs(ParseHeaderless(lines, source), 1, lines.Count(l => l.Fields.Length == 3), hasHeader: false);

        int folds, perFold;
        if (first.Length == 2)
        {
            folds = ParseCount(first[0], source, firstLine, "fold count");
            perFold = ParseCount(first[1], source, firstLine, "pairs per fold");
        }
        else if (first.Length == 1)
        {
            folds = 1;
            perFold = ParseCount(first[0], source, firstLine, "pair count");
        }
        else
        {
            throw new LfwPairsFormatException(source, firstLine,
                $"expected a header 'folds pairs_per_fold' or a pair line, got {first.Length} fields");
        }

        int expected = checked(folds * perFold * 2);
        var pairs = new List<LfwPair>(expected);
        for (int i = 1; i < lines.Count; i++)
        {
            var (number, fields) = lines[i];
            int index = i - 1;
            if (index >= expected)
                throw new LfwPairsFormatException(source, number,
                    $"the header declares {folds} folds of {perFold} same + {perFold} different pairs ({expected} lines), but there are more lines");
            int fold = index / (2 * perFold);
            bool expectSame = index % (2 * perFold) < perFold;
            int wantFields = expectSame ? 3 : 4;
            if (fields.Length != wantFields)
                throw new LfwPairsFormatException(source, number,
                    expectSame
                        ? $"expected a same-person line 'Name n1 n2' (fold {fold + 1}, same pair {index % (2 * perFold) + 1} of {perFold}), got {fields.Length} fields"
                        : $"expected a different-person line 'Name1 n1 Name2 n2' (fold {fold + 1}, different pair {index % (2 * perFold) - perFold + 1} of {perFold}), got {fields.Length} fields");
            pairs.Add(ParsePair(fields, fold, number, source));
        }
        if (pairs.Count < expected)
            throw new LfwPairsFormatException(source, endLine,
                $"the file ends after {pairs.Count} pair lines; the header declares {folds} folds of {perFold} same + {perFold} different pairs ({expected} lines)");
        return new LfwPairs(pairs, folds, perFold, hasHeader: true);
    }

    /// <summary>The same-person flag of each pair, in file order.</summary>
    public bool[] SameFlags() => Pairs.Select(p => p.IsSame).ToArray();

    /// <summary>
    /// Finds the image files of every pair under <paramref name="alignedRoot"/> (<c>Name/Name_0001.ext</c>).
    /// Pairs with a missing image are left out and reported, as facenet's <c>lfw.get_paths</c> skips them
    /// (its <c>add_extension</c> aborts on a missing file; we count and name them instead).
    /// </summary>
    /// <param name="alignedRoot">Folder holding one sub-folder per person.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="alignedRoot"/> does not exist.</exception>
    public LfwResolvedPairs Resolve(string alignedRoot) => new LfwImageResolver(alignedRoot).Resolve(this);

    private static List<LfwPair> ParseHeaderless(List<(int Number, string[] Fields)> lines, string source)
    {
        var pairs = new List<LfwPair>(lines.Count);
        foreach (var (number, fields) in lines)
        {
            if (fields.Length is not (3 or 4))
                throw new LfwPairsFormatException(source, number,
                    $"expected 'Name n1 n2' or 'Name1 n1 Name2 n2', got {fields.Length} fields (a header is only allowed on the first line)");
            pairs.Add(ParsePair(fields, 0, number, source));
        }
        return pairs;
    }

    private static LfwPair ParsePair(string[] f, int fold, int line, string source)
    {
        if (f.Length == 3)
        {
            var a = new LfwImageKey(f[0], ParseImageNumber(f[1], source, line));
            var b = new LfwImageKey(f[0], ParseImageNumber(f[2], source, line));
            return new LfwPair(a, b, true, fold, line);
        }
        var first = new LfwImageKey(f[0], ParseImageNumber(f[1], source, line));
        var second = new LfwImageKey(f[2], ParseImageNumber(f[3], source, line));
        return new LfwPair(first, second, false, fold, line);
    }

    private static int ParseImageNumber(string s, string source, int line)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new LfwPairsFormatException(source, line, $"'{Printable(s)}' is not an image number (a positive integer)");
        return n;
    }

    /// <summary>At most 40 characters of <paramref name="s"/> for an error message: control and non-ASCII characters as \\xNN or \\uNNNN.</summary>
    internal static string Printable(string s)
    {
        const int Max = 40;
        var b = new System.Text.StringBuilder();
        foreach (char ch in s.Length > Max ? s[..Max] : s)
        {
            if (ch is >= ' ' and < (char)0x7F) b.Append(ch);
            else if (ch == '\t') b.Append("\\t");
            else if (ch < 0x100) b.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:X2}");
            else b.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:X4}");
        }
        if (s.Length > Max) b.Append(CultureInfo.InvariantCulture, $"... ({s.Length} characters)");
        return b.ToString();
    }

    private static int ParseCount(string s, string source, int line, string what)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new LfwPairsFormatException(source, line, $"header {what} '{Printable(s)}' is not a positive integer");
        return n;
    }
}

/// <summary>A pair whose two image files were found.</summary>
/// <param name="Pair">The pair as read from the pairs file.</param>
/// <param name="Path1">Full path of the first image.</param>
/// <param name="Path2">Full path of the second image.</param>
public sealed record ResolvedLfwPair(LfwPair Pair, string Path1, string Path2);

/// <summary>Result of resolving a pairs file against an image folder.</summary>
/// <param name="Pairs">Pairs with both images found, in file order.</param>
/// <param name="SkippedPairs">Pairs left out because an image is missing, in file order.</param>
/// <param name="MissingImages">Each missing image once, as <c>Name/Name_0001</c> (no extension), sorted ordinally.</param>
public sealed record LfwResolvedPairs(
    IReadOnlyList<ResolvedLfwPair> Pairs,
    IReadOnlyList<LfwPair> SkippedPairs,
    IReadOnlyList<string> MissingImages);

/// <summary>Finds <c>Name/Name_0001.ext</c> files under a dataset root, trying the common image extensions.</summary>
internal sealed class LfwImageResolver
{
    /// <summary>
    /// Extensions tried, in order of preference when several exist. facenet's <c>lfw.add_extension</c> tries jpg then
    /// png; the rest are the other formats aligned datasets are commonly saved in. Matched case-insensitively.
    /// </summary>
    internal static readonly string[] Extensions = ["jpg", "png", "jpeg", "bmp", "webp", "pgm"];

    private readonly string _root;
    private readonly Dictionary<string, Dictionary<string, string>> _byPerson = new(StringComparer.Ordinal);

    public LfwImageResolver(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"aligned image folder '{root}' does not exist");
        _root = root;
    }

    /// <summary>Full path of the image, or null when no file with a known extension exists.</summary>
    public string? Find(LfwImageKey key)
    {
        if (!_byPerson.TryGetValue(key.Person, out var files))
        {
            files = ScanPerson(key.Person);
            _byPerson[key.Person] = files;
        }
        return files.GetValueOrDefault(key.FileStem);
    }

    public LfwResolvedPairs Resolve(LfwPairs pairs)
    {
        var found = new List<ResolvedLfwPair>(pairs.Pairs.Count);
        var skipped = new List<LfwPair>();
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pair in pairs.Pairs)
        {
            string? p1 = Find(pair.First), p2 = Find(pair.Second);
            if (p1 is null) missing.Add(pair.First.RelativeStem);
            if (p2 is null) missing.Add(pair.Second.RelativeStem);
            if (p1 is null || p2 is null) skipped.Add(pair);
            else found.Add(new ResolvedLfwPair(pair, p1, p2));
        }
        return new LfwResolvedPairs(found, skipped, missing.ToArray());
    }

    // stem (case-sensitive, as LFW names are) -> path of the preferred extension
    private Dictionary<string, string> ScanPerson(string person)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var dir = Path.Combine(_root, person);
        if (!Directory.Exists(dir)) return result;
        var best = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(dir))
        {
            var ext = Path.GetExtension(file).TrimStart('.');
            int rank = Array.FindIndex(Extensions, e => e.Equals(ext, StringComparison.OrdinalIgnoreCase));
            if (rank < 0) continue;
            var stem = Path.GetFileNameWithoutExtension(file);
            if (best.TryGetValue(stem, out int have) && have <= rank) continue;
            best[stem] = rank;
            result[stem] = Path.GetFullPath(file);
        }
        return result;
    }
}
