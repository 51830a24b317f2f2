using MimeKit;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>
/// The success notice a sender asked for with NOTIFY=SUCCESS (RFC 3461 §4.1): "delivered" when the copy
/// is in the recipient's mailbox (RFC 3461 §5.2.3), "relayed" when it went to a next hop that does not
/// take DSN requests, where the request ends (§5.2.2). A next hop that takes them gets NOTIFY, ENVID and
/// RET passed on and reports itself (§5.2.1). The notice carries the message's headers only: RET asks
/// what a failure notice returns (RFC 3461 §4.3), and the headers identify the message, as Postfix sends.
/// </summary>
public static class SuccessReport
{
    /// <summary>Whether this recipient's delivery is to be reported: NOTIFY lists SUCCESS, and the message has a reverse-path and is no bounce.</summary>
    public static bool Wanted(DeliveryWork work) =>
        work.Sender.Length > 0 && !work.IsBounce && DeliveryStatusReport.NotifyLists(work.Notify, "SUCCESS");

    /// <summary>Whether any recipient of a message being received asked for a success notice.</summary>
    public static bool WantedByAny(QueuedMessage message) =>
        message.Sender.Length > 0 && !message.IsBounce && message.Recipients.Any(r => DeliveryStatusReport.NotifyLists(r.Notify, "SUCCESS"));

    public static DsnRecipient Delivered(DeliveryWork work, DateTimeOffset when) =>
        new(work.Address, work.OriginalRecipient, "delivered", "2.0.0", null, "delivered to mailbox", when);

    /// <param name="remoteMta">the next hop ("mx.example.net[192.0.2.1]:25")</param>
    /// <param name="reply">what it answered to the end of data (our log's "NEXT-HOP said: 250 ..." form is accepted)</param>
    public static DsnRecipient Relayed(DeliveryWork work, string remoteMta, string reply, DateTimeOffset when)
    {
        // RFC 3464 §2.3.6: the Diagnostic-Code is the reply itself; Remote-MTA already names who gave it.
        var said = remoteMta + " said: ";
        var diagnostic = reply.StartsWith(said, StringComparison.Ordinal) ? reply[said.Length..] : reply;
        return new(work.Address, work.OriginalRecipient, "relayed", "2.0.0", remoteMta, diagnostic, when);
    }

    public static MimeMessage Build(string reportingMta, DeliveryWork original, IReadOnlyList<DsnRecipient> recipients, DateTimeOffset now) =>
        DeliveryStatusReport.Build(reportingMta, original, "Successful Mail Delivery Report",
            "Your message reached the recipients below, as you asked to be told (NOTIFY=SUCCESS). A copy put into a"
            + " mailbox is done with; a copy handed on to a system that does not report back may still fail there,"
            + " and that system would tell you.", recipients, headersOnly: true, now);
}
