using System.Text;
using MimeKit;
using MimeKit.Utils;
using Portcullis.Server.Directory;
using Portcullis.Smtp;

namespace Portcullis.Server.Submission;

/// <summary>
/// What a submission server checks and completes in a message from its own user (RFC 6409 §8): every
/// From: address must belong to the authenticated user (issue 3: no sending as someone else), and a
/// missing Date or Message-ID is added.
/// </summary>
public static class SubmittedHeaders
{
    public sealed record Outcome(SmtpReply? Refusal, string HeadersToAdd, string? FromDomain);

    public static Outcome Check(ReadOnlyMemory<byte> message, string? user, DirectorySnapshot directory, string hostname, DateTimeOffset now)
    {
        HeaderList headers;
        try
        {
            using var stream = new MemoryStream(message.ToArray(), writable: false);
            headers = HeaderList.Load(stream);
        }
        catch (FormatException)
        {
            return new Outcome(new SmtpReply(550, "5.6.0", "Message header cannot be parsed"), "", null);
        }

        var fromText = headers[HeaderId.From];
        string? fromDomain = null;
        if (fromText is not null && InternetAddressList.TryParse(fromText, out var from))
        {
            var mailboxes = from.Mailboxes.ToList();
            fromDomain = mailboxes.FirstOrDefault()?.Domain?.ToLowerInvariant();
            if (user is not null)
            {
                var owned = directory.AddressesOwnedBy(user).ToHashSet(StringComparer.OrdinalIgnoreCase);
                var foreign = mailboxes.FirstOrDefault(m => !owned.Contains(m.Address));
                if (foreign is not null)
                {
                    return new Outcome(new SmtpReply(553, "5.7.1", $"From: <{foreign.Address}> is not an address of {user}"), "", null);
                }
            }
        }
        else if (user is not null)
        {
            // RFC 5322 §3.6: From: is required; without it nobody can check who is sending.
            return new Outcome(new SmtpReply(553, "5.7.1", "Message has no valid From: header"), "", null);
        }

        var add = new StringBuilder();
        if (!headers.Contains(HeaderId.Date))
        {
            add.Append("Date: ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        }
        if (!headers.Contains(HeaderId.MessageId))
        {
            add.Append("Message-ID: <").Append(MimeUtils.GenerateMessageId(hostname)).Append(">\r\n");
        }
        return new Outcome(null, add.ToString(), fromDomain);
    }
}
