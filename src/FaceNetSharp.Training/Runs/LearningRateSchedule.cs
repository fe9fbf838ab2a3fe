using System.Globalization;

namespace FaceNetSharp.Training.Runs;

/// <summary>A schedule file could not be read: names the file and the line.</summary>
public sealed class LearningRateScheduleException(string message) : FormatException(message);

/// <summary>
/// facenet's learning-rate schedule file (<c>--learning_rate_schedule_file</c>, used when <c>--learning_rate</c> is
/// negative), as read by <c>facenet.get_learning_rate_from_file</c>.
/// </summary>
/// <remarks>
/// Format, one entry a line: <c>epoch: learning_rate</c>. Everything after <c>#</c> is a comment; blank lines are
/// skipped. A learning rate of <c>-</c> means -1 (newer facenet); any rate &lt;= 0 means "stop training"
/// (train_softmax.py: <c>if lr&lt;=0: return False</c>). The rate for an epoch is that of the last entry whose epoch is
/// &lt;= it. Example (facenet's data/learning_rate_schedule_classifier_casia.txt has this shape):
/// <code>
/// # Learning rate schedule
/// 0:  0.05
/// 60: 0.005
/// 80: 0.0005
/// 91: -1
/// </code>
/// Differences from facenet, on inputs where facenet has no defined behaviour: epochs must increase strictly
/// (facenet assumes it silently); an epoch before the first entry is an error (facenet: UnboundLocalError); an epoch at
/// or after the last entry gets the last entry's rate (facenet's function falls off its loop and returns None, which
/// Python 2 treats as "stop" and Python 3 as a TypeError); extra <c>:</c> fields are an error (facenet ignores them).
/// </remarks>
public sealed class LearningRateSchedule
{
    private readonly (int Epoch, double Rate)[] entries;

    private LearningRateSchedule((int, double)[] entries, string source)
    {
        this.entries = entries;
        Source = source;
    }

    /// <summary>Where the schedule came from (a path, or a caller-given name), used in error messages.</summary>
    public string Source { get; }

    /// <summary>The entries in file order (epochs strictly increasing).</summary>
    public IReadOnlyList<(int Epoch, double Rate)> Entries => entries;

    /// <summary>Reads a schedule file.</summary>
    /// <exception cref="LearningRateScheduleException">A line is malformed (the message names the file and line).</exception>
    public static LearningRateSchedule Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses schedule text; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="LearningRateScheduleException">A line is malformed, or epochs do not increase, or there is no entry.</exception>
    public static LearningRateSchedule Parse(string text, string source = "<schedule>")
    {
        var list = new List<(int, double)>();
        using var reader = new StringReader(text);
        int lineNo = 0;
        for (string? raw = reader.ReadLine(); raw is not null; raw = reader.ReadLine())
        {
            lineNo++;
            int hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            var parts = line.Split(':');
            if (parts.Length != 2)
                throw Error(source, lineNo, raw, "expected 'epoch: learning_rate'");
            if (!int.TryParse(parts[0].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int epoch) || epoch < 0)
                throw Error(source, lineNo, raw, $"'{parts[0].Trim()}' is not a non-negative integer epoch");
            var rateText = parts[1].Trim();
            double rate;
            if (rateText == "-") rate = -1;   // facenet: if par[1]=='-': lr = -1
            else if (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || !double.IsFinite(rate))
                throw Error(source, lineNo, raw, $"'{rateText}' is not a learning rate (a number, or '-' for stop)");
            if (list.Count > 0 && epoch <= list[^1].Item1)
                throw Error(source, lineNo, raw, $"epoch {epoch} does not come after epoch {list[^1].Item1} of an earlier line");
            list.Add((epoch, rate));
        }
        if (list.Count == 0)
            throw new LearningRateScheduleException($"{source}: no 'epoch: learning_rate' entry");
        return new LearningRateSchedule([.. list], source);
    }

    /// <summary>
    /// The learning rate for <paramref name="epoch"/>: that of the last entry whose epoch is &lt;= it.
    /// A value &lt;= 0 means training stops (see <see cref="TryGetRate"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The epoch is before the first entry.</exception>
    public double RateAt(int epoch)
    {
        if (epoch < entries[0].Epoch)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"{Source}: the schedule starts at epoch {entries[0].Epoch}");
        double rate = entries[0].Rate;
        foreach (var (e, r) in entries)
        {
            if (e > epoch) break;
            rate = r;
        }
        return rate;
    }

    /// <summary>False when the schedule says to stop at <paramref name="epoch"/> (rate &lt;= 0); otherwise the rate.</summary>
    public bool TryGetRate(int epoch, out double rate)
    {
        rate = RateAt(epoch);
        return rate > 0;
    }

    private static LearningRateScheduleException Error(string source, int line, string text, string why) =>
        new($"{source}:{line}: {why}: \"{text.Trim()}\"");
}
