using MimeKit;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>One recipient that could not be delivered, as a DSN reports it.</summary>
public sealed record FailedRecipient(string Address, string? OriginalRecipient, RemoteFailure Failure, DateTimeOffset LastAttempt);

/// <summary>
/// The bounce for recipients that finally failed: a <see cref="DeliveryStatusReport"/> with Action: failed,
/// the failure's status and diagnostic, and the returned message: its headers only with RET=HDRS or when
/// it is large, else the whole message (RFC 3461 §4.3).
/// </summary>
public static class BounceReport
{
    /// <summary>Above this size only the headers are returned, as Postfix's bounce_size_limit does.</summary>
    public const int FullReturnLimit = 50_000;

    /// <summary>
    /// Whether a failure of this recipient may be reported at all: never to the null reverse-path, never
    /// for a message that was itself a bounce (RFC 3464 §2, RFC 5321 §3.6.3 / §4.5.5: no bounce loops),
    /// and not when the sender asked for no failure reports (RFC 3461 §4.1 NOTIFY=NEVER, or a list without FAILURE).
    /// </summary>
    public static bool MayReport(DeliveryWork work)
    {
        if (work.Sender.Length == 0 || work.IsBounce)
        {
            return false;
        }
        return work.Notify is null || DeliveryStatusReport.NotifyLists(work.Notify, "FAILURE");
    }

    /// <param name="reportingMta">this server's host name</param>
    /// <param name="original">the queued message (envelope and content)</param>
    /// <param name="failed">the recipients to report</param>
    public static MimeMessage Build(string reportingMta, DeliveryWork original, IReadOnlyList<FailedRecipient> failed, DateTimeOffset now)
    {
        var recipients = failed
            .Select(f => new DsnRecipient(f.Address, f.OriginalRecipient, "failed", f.Failure.Status, f.Failure.RemoteMta, f.Failure.Diagnostic, f.LastAttempt))
            .ToList();
        var headersOnly = string.Equals(original.Ret, "HDRS", StringComparison.OrdinalIgnoreCase) || original.Content.Length > FullReturnLimit;
        return DeliveryStatusReport.Build(reportingMta, original, "Undelivered Mail Returned to Sender",
            headersOnly
                ? "Your message could not be delivered to the recipients below. Its header comes back with this report."
                : "Your message could not be delivered to the recipients below. It comes back with this report.", recipients, headersOnly, now);
    }

    /// <summary>The bytes of a DSN ready for the queue (CRLF line endings, as every queued message).</summary>
    public static byte[] ToBytes(MimeMessage dsn) => DeliveryStatusReport.ToBytes(dsn);

    /// <summary>The header section of a message: everything up to and including the empty line.</summary>
    public static byte[] HeaderBytes(byte[] content) => DeliveryStatusReport.HeaderBytes(content);
}
