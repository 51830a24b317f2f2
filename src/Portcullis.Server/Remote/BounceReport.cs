using System.Globalization;
using System.Text;
using MimeKit;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>One recipient that could not be delivered, as a DSN reports it.</summary>
public sealed record FailedRecipient(string Address, string? OriginalRecipient, RemoteFailure Failure, DateTimeOffset LastAttempt);

/// <summary>
/// Builds the bounce for recipients that finally failed: a delivery status notification (RFC 3464) as
/// multipart/report; report-type=delivery-status (RFC 6522) with a human-readable part, the
/// message/delivery-status part (per-message fields, then one block per recipient: Final-Recipient,
/// Action: failed, Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date) and the returned message:
/// its headers only with RET=HDRS or when it is large, else the whole message (RFC 3461 §4.3).
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
        if (work.Notify is { } notify)
        {
            var items = notify.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return items.Any(i => i.Equals("FAILURE", StringComparison.OrdinalIgnoreCase));
        }
        return true;
    }

    /// <param name="reportingMta">this server's host name</param>
    /// <param name="original">the queued message (envelope and content)</param>
    /// <param name="failed">the recipients to report</param>
    public static MimeMessage Build(string reportingMta, DeliveryWork original, IReadOnlyList<FailedRecipient> failed, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + reportingMta));
        message.To.Add(MailboxAddress.Parse(original.Sender));
        message.Subject = "Undelivered Mail Returned to Sender";
        message.Date = now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(reportingMta);
        // RFC 3834 §5: an automatic reply, so auto-responders do not answer it.
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var human = new StringBuilder();
        human.Append(CultureInfo.InvariantCulture, $"This is the mail system at host {reportingMta}.\n\n");
        human.Append("Your message could not be delivered to one or more recipients. It is attached below.\n\n");
        foreach (var f in failed)
        {
            human.Append(CultureInfo.InvariantCulture, $"<{f.Address}>: {f.Failure}\n");
        }
        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = human.ToString() },
        };

        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", "dns; " + reportingMta },
        };
        if (original.EnvelopeId is { } envid)
        {
            perMessage.Add("Original-Envelope-Id", envid);
        }
        perMessage.Add("Arrival-Date", MimeKit.Utils.DateUtils.FormatDate(original.ReceivedAt));
        status.StatusGroups.Add(perMessage);
        foreach (var f in failed)
        {
            var block = new HeaderList();
            if (f.OriginalRecipient is { } orcpt)
            {
                // RFC 3461 §4.2: ORCPT is "addr-type;xtext"; RFC 3464 §2.3.1 carries it as is.
                block.Add("Original-Recipient", orcpt.Contains(';', StringComparison.Ordinal) ? orcpt : "rfc822; " + orcpt);
            }
            block.Add("Final-Recipient", "rfc822; " + f.Address);
            block.Add("Action", "failed");
            // A recipient that expired after temporary failures keeps its 4.x.x status (RFC 3463: persistent transient failure).
            block.Add("Status", f.Failure.Status);
            if (f.Failure.RemoteMta is { } mta)
            {
                // RFC 3464 §2.3.5: the remote MTA's host name ("mx.example.net[192.0.2.1]:25" in our logs).
                block.Add("Remote-MTA", "dns; " + mta.Split('[')[0]);
            }
            block.Add("Diagnostic-Code", "smtp; " + OneLine(f.Failure.Diagnostic));
            block.Add("Last-Attempt-Date", MimeKit.Utils.DateUtils.FormatDate(f.LastAttempt));
            status.StatusGroups.Add(block);
        }
        report.Add(status);

        var headersOnly = string.Equals(original.Ret, "HDRS", StringComparison.OrdinalIgnoreCase) || original.Content.Length > FullReturnLimit;
        if (headersOnly)
        {
            report.Add(new TextRfc822Headers { Message = MimeMessage.Load(new MemoryStream(HeaderBytes(original.Content))) });
        }
        else
        {
            report.Add(new MessagePart("rfc822") { Message = MimeMessage.Load(new MemoryStream(original.Content)) });
        }
        message.Body = report;
        return message;
    }

    /// <summary>The bytes of a DSN ready for the queue (CRLF line endings, as every queued message).</summary>
    public static byte[] ToBytes(MimeMessage dsn)
    {
        using var buffer = new MemoryStream();
        dsn.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, buffer);
        return buffer.ToArray();
    }

    /// <summary>The header section of a message: everything up to and including the empty line.</summary>
    public static byte[] HeaderBytes(byte[] content)
    {
        var span = content.AsSpan();
        var end = span.IndexOf("\r\n\r\n"u8);
        return end < 0 ? content : span[..(end + 4)].ToArray();
    }

    private static string OneLine(string s) => s.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
