using System.Text;
using MimeKit;
using Portcullis.Server.Directory;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>One recipient's block in a delivery status notification (RFC 3464 §2.3).</summary>
/// <param name="Action">RFC 3464 §2.3.3: failed, delivered or relayed (delayed and expanded are never sent).</param>
/// <param name="Status">RFC 3463 status code, e.g. 5.1.1 or 2.0.0.</param>
/// <param name="RemoteMta">the next hop for remote recipients ("mx.example.net[192.0.2.1]:25"), else null</param>
public sealed record DsnRecipient(string Address, string? OriginalRecipient, string Action, string Status, string? RemoteMta, string? Diagnostic, DateTimeOffset LastAttempt);

/// <summary>
/// The MIME shape every DSN shares: multipart/report; report-type=delivery-status (RFC 6522) with a
/// human-readable part, the message/delivery-status part (per-message fields, then one block per
/// recipient, RFC 3464 §2.2-§2.3) and the returned message or its headers. <see cref="BounceReport"/> and
/// <see cref="SuccessReport"/> decide what goes in.
/// </summary>
public static class DeliveryStatusReport
{
    public static MimeMessage Build(string reportingMta, DeliveryWork original, string subject, string explanation, IReadOnlyList<DsnRecipient> recipients, bool headersOnly, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + reportingMta));
        message.To.Add(MailboxAddress.Parse(original.Sender));
        message.Subject = subject;
        message.Date = now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(reportingMta);
        // RFC 3834 §5: an automatic reply, so auto-responders do not answer it.
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var human = new StringBuilder();
        human.Append($"A report from the mail server {reportingMta} about a message you sent.\n\n");
        human.Append(explanation).Append("\n\n");
        foreach (var r in recipients)
        {
            var said = r.Diagnostic ?? r.Status;
            human.Append($"<{r.Address}>: {(r.RemoteMta is null ? said : r.RemoteMta + " said: " + said)}\n");
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
        foreach (var r in recipients)
        {
            var block = new HeaderList();
            if (r.OriginalRecipient is { } orcpt)
            {
                // RFC 3461 §4.2: ORCPT is "addr-type;xtext"; RFC 3464 §2.3.1 carries it as is.
                block.Add("Original-Recipient", orcpt.Contains(';', StringComparison.Ordinal) ? orcpt : "rfc822; " + orcpt);
            }
            block.Add("Final-Recipient", "rfc822; " + r.Address);
            block.Add("Action", r.Action);
            block.Add("Status", r.Status);
            if (r.RemoteMta is { } mta)
            {
                // RFC 3464 §2.3.5: the remote MTA's host name.
                block.Add("Remote-MTA", "dns; " + mta.Split('[')[0]);
            }
            if (r.Diagnostic is { } diagnostic)
            {
                block.Add("Diagnostic-Code", "smtp; " + OneLine(diagnostic));
            }
            block.Add("Last-Attempt-Date", MimeKit.Utils.DateUtils.FormatDate(r.LastAttempt));
            status.StatusGroups.Add(block);
        }
        report.Add(status);

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

    /// <summary>
    /// One notice per message for the reported recipients, each ready for the queue: from the null
    /// reverse-path (RFC 5321 §4.5.5) to where mail for the original sender goes, marked as a bounce so that
    /// it is never itself reported on. Returns each notice with the message it reports (for the log).
    /// </summary>
    public static List<(QueuedMessage Notice, DeliveryWork Original)> PerMessage<T>(IEnumerable<(DeliveryWork Work, T Recipient)> reported,
        Func<DeliveryWork, IReadOnlyList<T>, MimeMessage> build, Func<long> newId, DirectorySnapshot directory, DateTimeOffset now)
    {
        var notices = new List<(QueuedMessage, DeliveryWork)>();
        foreach (var message in reported.GroupBy(r => r.Work.MessageId))
        {
            var original = message.First().Work;
            var dsn = build(original, message.Select(m => m.Recipient).ToList());
            notices.Add((new QueuedMessage(newId(), "", [BounceRouting.RecipientFor(directory, original.Sender)], ToBytes(dsn), now, IsBounce: true), original));
        }
        return notices;
    }

    /// <summary>Whether the sender's NOTIFY (RFC 3461 §4.1) lists this keyword; absent NOTIFY means FAILURE (and maybe DELAY) only.</summary>
    public static bool NotifyLists(string? notify, string keyword) =>
        notify is not null && notify.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(i => i.Equals(keyword, StringComparison.OrdinalIgnoreCase));

    private static string OneLine(string s) => s.Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
