using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Portcullis.Audit.Scan;

/// <summary>
/// Scan progress on standard error: a Spectre.Console live progress bar with counts and ETA when stderr is a
/// terminal, plain lines every few seconds otherwise (logs, CI), so standard output stays the summary.
/// </summary>
public static class ScanProgress
{
    /// <summary>Shows progress until <paramref name="run"/> ends (cancellation reaches the run itself).</summary>
    public static async Task ShowAsync(ScanRunner runner, Task run)
    {
        if (Console.IsErrorRedirected || Environment.GetEnvironmentVariable("TERM") == "dumb")
        {
            await PlainAsync(runner, run).ConfigureAwait(false);
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var discovery = ctx.AddTask("discovery", maxValue: Math.Max(1, runner.Discovery?.Total ?? 1));
                ProgressTask? audits = null;
                while (!run.IsCompleted)
                {
                    Update(runner, discovery, ref audits, ctx);
                    await Task.WhenAny(run, Task.Delay(200, CancellationToken.None)).ConfigureAwait(false);
                }
                Update(runner, discovery, ref audits, ctx);
                discovery.StopTask();
                audits?.StopTask();
            }).ConfigureAwait(false);
    }

    private static void Update(ScanRunner runner, ProgressTask discovery, ref ProgressTask? audits, ProgressContext ctx)
    {
        if (runner.Discovery is { } d)
        {
            discovery.MaxValue = Math.Max(1, d.Total);
            discovery.Value = d.Done;
            discovery.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"discovery {d.Done:N0}/{d.Total:N0}  open {runner.OpenPorts:N0}  filtered {d.Filtered:N0}"));
        }
        else
        {
            discovery.Value = discovery.MaxValue;
            discovery.Description = Markup.Escape($"discovery (from the journal)  open {runner.OpenPorts:N0}");
        }
        if (runner.Phase != ScanPhase.Discovery)
        {
            discovery.Value = discovery.MaxValue;
            audits ??= ctx.AddTask("audits", maxValue: Math.Max(1, runner.AuditsTotal));
            audits.MaxValue = Math.Max(1, runner.AuditsTotal);
            audits.Value = runner.AuditsTotal == 0 ? 1 : runner.AuditsDone;
            audits.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"audits {runner.AuditsDone:N0}/{runner.AuditsTotal:N0}  OPEN {runner.AuditsOpen:N0}"));
        }
    }

    private static async Task PlainAsync(ScanRunner runner, Task run)
    {
        var clock = Stopwatch.StartNew();
        var every = TimeSpan.FromSeconds(5);
        var phase = ScanPhase.Discovery;
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(every)).ConfigureAwait(false);
            if (run.IsCompleted && phase == runner.Phase)
            {
                break;
            }
            phase = runner.Phase;
            await Console.Error.WriteLineAsync(Line(runner, clock.Elapsed)).ConfigureAwait(false);
        }
    }

    private static string Line(ScanRunner r, TimeSpan elapsed)
    {
        if (r.Phase == ScanPhase.Discovery && r.Discovery is { } d)
        {
            var rate = d.Done / Math.Max(0.001, elapsed.TotalSeconds);
            var eta = rate > 0 ? TimeSpan.FromSeconds((d.Total - d.Done) / rate) : TimeSpan.Zero;
            return string.Create(CultureInfo.InvariantCulture,
                $"discovery: {d.Done:N0}/{d.Total:N0} ({100.0 * d.Done / Math.Max(1, d.Total):0.0}%), open {r.OpenPorts:N0}, {rate:N0}/s, ETA {eta:mm\\:ss}");
        }
        return string.Create(CultureInfo.InvariantCulture, $"audits: {r.AuditsDone:N0}/{r.AuditsTotal:N0}, open {r.AuditsOpen:N0}");
    }
}
