using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>A check's outcome before the software is known for sure; becomes a <see cref="CheckResult"/> with its fix.</summary>
public sealed record Finding(string Id, string Title, CheckStatus Status, Severity Severity, string? Summary, string? Evidence, FixTopic? Topic, int Port, string? Source = null)
{
    public CheckResult ToResult(SmtpSoftware software) => new()
    {
        Id = Id,
        Title = Title,
        Status = Status,
        Severity = Severity,
        Summary = Summary,
        Evidence = Evidence,
        // Failures carry their fix; so do warnings (a passing check whose summary starts with "warning:").
        Fix = Topic is { } t && (Status == CheckStatus.Fail || Summary?.StartsWith("warning:", StringComparison.Ordinal) == true) ? RemediationTable.For(t, software) : null,
        Port = Port,
        Source = Source,
    };

    public static Finding Skipped(string id, string title, string why, int port) =>
        new(id, title, CheckStatus.Skipped, Severity.Info, why, null, null, port);

    /// <summary>The connection was lost before the check could judge: inconclusive, with the whole transcript.</summary>
    public static Finding Lost(string id, string title, Severity severity, ProbeLostException e, Transcript t, int port, string? source = null) =>
        new(id, title, CheckStatus.Inconclusive, severity, "could not complete: " + e.Message, t.ToString(), null, port, source);

    /// <summary>
    /// MAIL FROM was refused, so a check that needs a transaction cannot run. 530 (RFC 4954 §6: authentication
    /// required) is what a submission port should say before AUTH (RFC 6409 §4.3), so the check does not
    /// apply there: skipped, with the transcript. Any other refusal leaves the check inconclusive.
    /// </summary>
    public static Finding MailRefused(string id, string title, Severity severity, Portcullis.Smtp.SmtpReply mail, Transcript t, int port) =>
        mail.Code == 530
            ? new(id, title, CheckStatus.Skipped, Severity.Info, "not applicable: MAIL needs authentication here (" + mail + "), so recipients cannot be probed without an account", t.ToString(), null, port)
            : new(id, title, CheckStatus.Inconclusive, severity, "MAIL FROM refused: " + mail, t.ToString(), null, port);
}
