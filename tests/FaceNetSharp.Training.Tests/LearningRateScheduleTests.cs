using FaceNetSharp.Training.Runs;

namespace FaceNetSharp.Training.Tests;

public sealed class LearningRateScheduleTests
{
    private const string Casia = """
        # Learning rate schedule
        # Maps an epoch number to a learning rate
        0:  0.05
        60: 0.005   # decay
        80: 0.0005

        91: -1
        """;

    [Theory]
    [InlineData(0, 0.05)]
    [InlineData(59, 0.05)]
    [InlineData(60, 0.005)]
    [InlineData(79, 0.005)]
    [InlineData(80, 0.0005)]
    [InlineData(90, 0.0005)]
    [InlineData(91, -1)]
    [InlineData(500, -1)]
    public void Rate_is_that_of_the_last_entry_at_or_before_the_epoch(int epoch, double expected)
    {
        var s = LearningRateSchedule.Parse(Casia);
        Assert.Equal(expected, s.RateAt(epoch));
        Assert.Equal(expected > 0, s.TryGetRate(epoch, out _));
    }

    [Fact]
    public void Dash_means_stop_and_exponents_parse()
    {
        var s = LearningRateSchedule.Parse("0: 1e-3\n10:-\n");
        Assert.Equal(0.001, s.RateAt(9));
        Assert.Equal(-1, s.RateAt(10));
        Assert.False(s.TryGetRate(10, out _));
        Assert.Equal(2, s.Entries.Count);
    }

    [Fact]
    public void Epoch_before_the_first_entry_is_an_error()
    {
        var s = LearningRateSchedule.Parse("5: 0.1\n9: -1");
        Assert.Throws<ArgumentOutOfRangeException>(() => s.RateAt(4));
        Assert.Equal(0.1, s.RateAt(5));
    }

    [Theory]
    [InlineData("0: 0.1\nten: 0.01\n", 2, "not a non-negative integer epoch")]
    [InlineData("# c\n0: 0.1\n10 0.01\n", 3, "expected 'epoch: learning_rate'")]
    [InlineData("0: 0.1\n10: fast\n", 2, "is not a learning rate")]
    [InlineData("0: 0.1\n10: 0.01\n10: 0.001\n", 3, "does not come after epoch 10")]
    [InlineData("0: 0.1\n1: 2: 3\n", 2, "expected 'epoch: learning_rate'")]
    [InlineData("-1: 0.1\n", 1, "non-negative")]
    public void Malformed_lines_name_file_and_line(string text, int line, string why)
    {
        var ex = Assert.Throws<LearningRateScheduleException>(() => LearningRateSchedule.Parse(text, "lr.txt"));
        Assert.StartsWith($"lr.txt:{line}: ", ex.Message);
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void Empty_schedule_is_an_error()
    {
        var ex = Assert.Throws<LearningRateScheduleException>(() => LearningRateSchedule.Parse("# only a comment\n\n", "x.txt"));
        Assert.Contains("x.txt", ex.Message);
    }

    [Fact]
    public void Load_reads_a_file_and_names_it_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fns-lr-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, Casia);
            Assert.Equal(0.005, LearningRateSchedule.Load(path).RateAt(70));
            File.WriteAllText(path, "0: 0.1\noops\n");
            var ex = Assert.Throws<LearningRateScheduleException>(() => LearningRateSchedule.Load(path));
            Assert.StartsWith(path + ":2: ", ex.Message);
        }
        finally { File.Delete(path); }
    }
}
