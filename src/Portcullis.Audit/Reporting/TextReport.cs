using Spectre.Console;

namespace Portcullis.Audit.Reporting;

/// <summary>The readable form of audit reports (Spectre.Console).</summary>
internal static class TextReport
{
    /// <summary>Passing checks that share a group (the id before its first '.') are shown as one row above this many.</summary>
    private const int GroupPassesAbove = 3;

    public static void Write(IAnsiConsole console, IReadOnlyList<AuditReport> reports, bool verbose)
    {
        foreach (var report in reports)
        {
            WriteOne(console, report, verbose);
            console.WriteLine();
        }
        if (reports.Count > 1)
        {
            var open = reports.Count(r => r.Verdict == Verdict.Open);
            var inconclusive = reports.Count(r => r.Verdict == Verdict.Inconclusive);
            console.MarkupLine($"[bold]{reports.Count} targets:[/] {open} open, {inconclusive} inconclusive, {reports.Count - open - inconclusive} closed");
        }
    }

    private static void WriteOne(IAnsiConsole console, AuditReport r, bool verbose)
    {
        var header = new Grid().AddColumn().AddColumn();
        header.AddRow(new Markup("[bold]Target[/]"), new Markup(Esc(r.Target) + (r.Address is null || r.Address == r.Target ? "" : $" ({Esc(r.Address)})")));
        header.AddRow(new Markup("[bold]Software[/]"), new Markup(Esc(r.Software ?? "unknown")));
        header.AddRow(new Markup("[bold]Verdict[/]"), new Markup(VerdictMarkup(r.Verdict, r.Audit) + (r.VerdictReason is null ? "" : " - " + Esc(r.VerdictReason))));
        if (r.VantagePoint is not null)
        {
            header.AddRow(new Markup("[bold]From[/]"), new Markup(Esc(r.VantagePoint)));
        }
        header.AddRow(new Markup("[bold]Took[/]"), new Markup($"{r.DurationSeconds:0.0} s"));
        console.Write(header);

        var table = new Table().Border(TableBorder.Simple).AddColumn("Status").AddColumn("Check").AddColumn("Result");
        var showPort = r.Checks.Select(c => c.Port).Distinct().Count() > 1;
        foreach (var row in Rows(r.Checks, verbose, showPort))
        {
            table.AddRow(new Markup(StatusMarkup(row.Status)), new Markup(Esc(row.Label)), new Markup(Esc(row.Text)));
        }
        console.Write(table);

        // One entry per check id and fix: the same failure on several ports is listed once, with its ports.
        foreach (var g in r.Checks.Where(c => c.Status is CheckStatus.Fail or CheckStatus.Inconclusive).GroupBy(c => (c.Id, c.Status, c.Fix)))
        {
            var c = g.First();
            var showEvidence = verbose && !string.IsNullOrEmpty(c.Evidence);
            if (c.Fix is null && !showEvidence)
            {
                continue;
            }
            var ports = showPort && g.Any(x => x.Port is not null) ? " (port " + string.Join(", ", g.Select(x => x.Port)) + ")" : "";
            console.MarkupLine($"{StatusMarkup(c.Status)} [bold]{Esc(c.Id)}[/] {Esc(c.Title)}{Esc(ports)}");
            if (c.Fix is not null && c.Status == CheckStatus.Fail)
            {
                console.MarkupLine("  [bold]Fix:[/] " + Esc(Indent(c.Fix)));
            }
            if (showEvidence)
            {
                console.MarkupLine("  [bold]Transcript:[/]");
                console.MarkupLine("[grey]" + Esc(Indent("  " + c.Evidence!.TrimEnd())) + "[/]");
            }
        }
    }

    private sealed record Row(CheckStatus Status, string Label, string Text);

    /// <summary>One row per check, except that many passes of one group fold into one row (unless verbose).</summary>
    private static IEnumerable<Row> Rows(IReadOnlyList<CheckResult> checks, bool verbose, bool showPort)
    {
        var folded = new HashSet<string>();
        if (!verbose)
        {
            foreach (var g in checks.Where(c => c.Status == CheckStatus.Pass).GroupBy(c => Group(c.Id)))
            {
                if (g.Count() > GroupPassesAbove)
                {
                    folded.Add(g.Key);
                }
            }
        }
        var emitted = new HashSet<string>();
        foreach (var c in checks)
        {
            var g = Group(c.Id);
            if (c.Status == CheckStatus.Pass && folded.Contains(g))
            {
                if (emitted.Add(g))
                {
                    var n = checks.Count(x => x.Status == CheckStatus.Pass && Group(x.Id) == g);
                    yield return new Row(CheckStatus.Pass, g + ".*", $"{n} checks passed (-v lists them)");
                }
                continue;
            }
            yield return new Row(c.Status, c.Id + (c.Port is null || !showPort ? "" : $" :{c.Port}"), c.Summary ?? c.Title);
        }
    }

    private static string Group(string id)
    {
        var dot = id.IndexOf('.');
        return dot < 0 ? id : id[..dot];
    }

    private static string Indent(string s) => s.Replace("\n", "\n  ");

    private static string Esc(string s) => Markup.Escape(s);

    private static string VerdictMarkup(Verdict v, string audit) => v switch
    {
        Verdict.Open => audit switch { "smtp" => "[bold red]OPEN RELAY[/]", "proxy" => "[bold red]OPEN PROXY[/]", _ => "[bold red]OPEN[/]" },
        Verdict.Closed => "[bold green]closed[/]",
        _ => "[bold yellow]inconclusive[/]",
    };

    private static string StatusMarkup(CheckStatus s) => s switch
    {
        CheckStatus.Pass => "[green]pass[/]",
        CheckStatus.Fail => "[red]FAIL[/]",
        CheckStatus.Inconclusive => "[yellow]inconclusive[/]",
        _ => "[grey]skipped[/]",
    };
}
