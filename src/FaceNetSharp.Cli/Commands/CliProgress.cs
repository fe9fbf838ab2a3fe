using System.Collections.Concurrent;
using Spectre.Console;

namespace FaceNetSharp.Cli.Commands;

/// <summary>A batch job on a worker thread under one progress bar with its rate, as align, gallery, classify and cluster show it.</summary>
internal static class CliProgress
{
    private const string FailedPrefix = "[red]failed:[/] ";

    /// <summary>The markup line of a failed item (already escaped text): <see cref="RunPolled{T}"/> prints it as an error.</summary>
    public static string Failed(string escapedMessage) => FailedPrefix + escapedMessage;

    /// <summary>
    /// Runs <paramref name="job"/> on a worker; the job calls the action it is given once per finished item, with a
    /// markup line to print for that item or null. Every 200 ms the bar moves, its description shows
    /// "<paramref name="what"/> (N img/s)" (or another <paramref name="rateUnit"/>), and the queued lines are printed here, on the console's thread, so they
    /// do not interleave with the bar's drawing. Afterwards the bar is full and, when given,
    /// <paramref name="finalDescription"/> of the result replaces its description; with <paramref name="autoClear"/> the bar
    /// disappears at the end instead.
    /// </summary>
    public static T RunPolled<T>(CliContext ctx, string what, int total, Func<Action<string?>, T> job, CancellationToken cancel,
        Func<T, string>? finalDescription = null, bool autoClear = false, string rateUnit = "img/s")
    {
        T? result = default;
        var lines = new ConcurrentQueue<string>();
        // Failed items go to stderr, except while a live bar is drawn on the terminal: a line written around Spectre's
        // live display would be drawn over, so there the console prints it above the bar (on the terminal either way).
        var errors = ctx.Console.Profile.Capabilities.Interactive ? ctx.Console : ctx.Errors;
        void Drain()
        {
            while (lines.TryDequeue(out var line)) (line.StartsWith(FailedPrefix, StringComparison.Ordinal) ? errors : ctx.Console).MarkupLine(line);
        }
        ctx.Console.Progress()
            .AutoClear(autoClear)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(progress =>
            {
                var task = progress.AddTask(what, maxValue: Math.Max(1, total));
                var started = DateTime.UtcNow;
                int done = 0;
                var run = Task.Run(() => job(line =>
                {
                    if (line is not null) lines.Enqueue(line);
                    Interlocked.Increment(ref done);
                }), cancel);
                while (!run.Wait(200))
                {
                    Drain();
                    var rate = done / Math.Max(1e-3, (DateTime.UtcNow - started).TotalSeconds);
                    task.Description = $"{what} [grey]({rate:F1} {rateUnit})[/]";
                    task.Value = done;
                }
                Drain();
                result = run.GetAwaiter().GetResult();
                task.Value = task.MaxValue;
                if (finalDescription is not null) task.Description = finalDescription(result);
            });
        return result!;
    }
}
