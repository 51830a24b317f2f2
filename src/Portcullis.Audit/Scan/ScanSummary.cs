using System.Globalization;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Targets;
using Spectre.Console;

namespace Portcullis.Audit.Scan;

/// <summary>The table printed when a scan ends: one row per open port with its audit verdict, then the totals.</summary>
public static class ScanSummary
{
    /// <summary>The table goes to <paramref name="console"/>; the two totals lines go to <paramref name="totals"/> unwrapped, so scripts can read them.</summary>
    public static void Write(IAnsiConsole console, TextWriter totals, EndpointSpace space, IReadOnlyList<int> ports, ScanResult result)
    {
        var byEndpoint = result.Reports
            .GroupBy(r => (r.Address, r.Checks.FirstOrDefault(c => c.Port is not null)?.Port))
            .ToDictionary(g => g.Key, g => g.First());
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]scan summary[/]")
            .AddColumn("Address").AddColumn("Port").AddColumn("Audit").AddColumn("Verdict").AddColumn("Finding");
        foreach (var o in result.Opens)
        {
            byEndpoint.TryGetValue((o.Address.ToString(), o.Port), out var report);
            table.AddRow(
                Markup.Escape(o.Address.ToString()),
                o.Port.ToString(CultureInfo.InvariantCulture),
                o.Service,
                report is null ? "[grey]not audited[/]" : VerdictText(report),
                Markup.Escape(Finding(report)));
        }
        if (result.Opens.Count > 0)
        {
            console.Write(table);
        }
        var seconds = result.DiscoveryTime.TotalSeconds;
        var perSecond = seconds > 0 ? result.Tried / seconds : 0;
        var addresses = ports.Count > 0 ? perSecond / ports.Count : 0;
        totals.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"discovery: {space.AddressCount} addresses x {ports.Count} ports = {space.Count:N0} endpoints, {result.Tried:N0} tried in {seconds:0.00} s ({perSecond:N0} endpoints/s, {addresses:N0} addresses/s); {result.Opens.Count:N0} open, {result.Filtered:N0} filtered"));
        var open = result.Reports.Count(r => r.Verdict == Verdict.Open);
        var inconclusive = result.Reports.Count(r => r.Verdict == Verdict.Inconclusive);
        totals.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"audits: {result.Reports.Count:N0} in {result.AuditTime.TotalSeconds:0.00} s: {open} open ({result.Reports.Count(r => r.Verdict == Verdict.Open && r.Audit == "proxy")} proxies, {result.Reports.Count(r => r.Verdict == Verdict.Open && r.Audit == "smtp")} relays), {result.Reports.Count - open - inconclusive} closed, {inconclusive} inconclusive"));
        totals.Flush();
    }

    private static string VerdictText(AuditReport r) => r.Verdict switch
    {
        Verdict.Open => r.Audit == "proxy" ? "[bold red]OPEN PROXY[/]" : "[bold red]OPEN RELAY[/]",
        Verdict.Closed => "[green]closed[/]",
        _ => "[yellow]inconclusive[/]",
    };

    /// <summary>Open: which checks proved it; otherwise the verdict's reason, shortened.</summary>
    private static string Finding(AuditReport? r)
    {
        if (r is null)
        {
            return "port open";
        }
        var failed = r.Checks.Where(c => c.Status == CheckStatus.Fail).Select(c => c.Id).Distinct().ToList();
        return r.Verdict == Verdict.Open && failed.Count > 0
            ? "proven: " + string.Join(", ", failed)
            : Shorten(r.VerdictReason ?? "", 90);
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
