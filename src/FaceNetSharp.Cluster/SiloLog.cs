using Microsoft.Extensions.Logging;

namespace FaceNetSharp.Cluster;

/// <summary>
/// The silo's console output: one line per event of this project's code ("shard 3: 83,334 faces loaded in 412 ms"),
/// prefixed by the UTC time; Orleans' and the host's own messages only from Error up (a SIGKILLed neighbour makes
/// Orleans log dozens of connection warnings a second), or from Information up with <c>verbose</c>. An exception is
/// its type and message; its stack trace only with <c>verbose</c>.
/// </summary>
internal sealed class SiloLog(Action<string> write, bool verbose) : ILoggerProvider
{
    private readonly Lock _gate = new();

    /// <summary>Writes one line, time-stamped; the writes of several threads do not interleave.</summary>
    public void Line(string text)
    {
        lock (_gate) write($"{DateTime.UtcNow:HH:mm:ss} {text}");
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName,
        categoryName.StartsWith("FaceNetSharp.", StringComparison.Ordinal) ? (verbose ? LogLevel.Debug : LogLevel.Information)
        : verbose ? LogLevel.Information : LogLevel.Error);

    public void Dispose() { }

    private sealed class Logger(SiloLog owner, string category, LogLevel minimum) : ILogger
    {
        private readonly bool _own = category.StartsWith("FaceNetSharp.", StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = formatter(state, exception);
            // Ours: the message alone (a warning says so); others: level and the category's last part, to tell them apart.
            var prefix = _own
                ? logLevel >= LogLevel.Warning ? $"{Level(logLevel)}: " : ""
                : $"{Level(logLevel)} {category[(category.LastIndexOf('.') + 1)..]}: ";
            if (exception is not null) text += owner.Verbose ? $"\n{exception}" : $" ({exception.GetType().Name}: {exception.Message})";
            owner.Line(prefix + text);
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Critical => "critical",
            LogLevel.Error => "error",
            LogLevel.Warning => "warning",
            LogLevel.Information => "info",
            _ => "debug",
        };
    }

    private bool Verbose => verbose;
}
