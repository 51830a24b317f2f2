using Spectre.Console;

namespace Portcullis.Audit.Reporting;

/// <summary>
/// The one entry point every audit command (smtp, proxy, scan) uses to print its reports, so that the
/// text and JSON forms look the same whatever was audited. A report is one target with its checks.
/// </summary>
public static class ReportWriter
{
    /// <summary>
    /// Human-readable report: per target a header (software, verdict), a table of checks and, for every
    /// failed check, its fix. With <paramref name="verbose"/> every failing or inconclusive check also shows
    /// its evidence (the transcript), and passing checks are listed one by one instead of grouped.
    /// </summary>
    public static void WriteText(IAnsiConsole console, IReadOnlyList<AuditReport> reports, bool verbose) =>
        TextReport.Write(console, reports, verbose);

    /// <summary>
    /// JSON report (schema in docs/audit-json.md): one target gives one JSON object, several targets give a
    /// JSON array of those objects. Nothing else is written to <paramref name="output"/>.
    /// </summary>
    public static void WriteJson(TextWriter output, IReadOnlyList<AuditReport> reports) =>
        JsonReport.Write(output, reports);

    /// <summary>Same as <see cref="WriteJson(TextWriter, IReadOnlyList{AuditReport})"/>, as UTF-8 to a stream.</summary>
    public static void WriteJson(Stream output, IReadOnlyList<AuditReport> reports)
    {
        using var w = new StreamWriter(output, new System.Text.UTF8Encoding(false), leaveOpen: true);
        JsonReport.Write(w, reports);
    }
}
