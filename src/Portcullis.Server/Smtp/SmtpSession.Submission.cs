using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Policy;
using Portcullis.Server.Submission;
using Portcullis.Smtp;

namespace Portcullis.Server.Smtp;

/// <summary>What the submission listeners add to the dialogue (RFC 6409, issue 3).</summary>
public sealed partial class SmtpSession
{
    private static readonly SmtpReply SendingLimitReached = new(450, "4.7.1", "Sending limit for this account reached; try again later");

    /// <summary>Not a reply: what <see cref="CheckSubmissionSender"/> returns when the directory must catch up before it decides.</summary>
    private static readonly SmtpReply CatchUpFirst = new(451, "4.3.0", "directory catch-up");

    /// <summary>
    /// On submission: MAIL needs AUTH (or a trusted network), the envelope sender must be one of the
    /// user's own addresses, and the user must be under the hourly message limit.
    /// </summary>
    private SmtpReply? CheckSubmissionSender(MailPath path, bool directoryCurrent)
    {
        if (_listener == ListenerKind.Mx)
        {
            return null;
        }
        if (_authenticatedUser is null)
        {
            return Client.InTrustedNetwork ? null : (_tls ? Replies.AuthRequired : Replies.EncryptionRequired);
        }
        if (path.Mailbox is { } mailbox)
        {
            var address = mailbox.IsUnqualified ? mailbox.LocalPart : mailbox.LocalPart + "@" + RecipientPolicy.NormalizeDomain(mailbox.Domain);
            var owned = _server.Directory().AddressesOwnedBy(_authenticatedUser);
            if (!owned.Contains(address, StringComparer.OrdinalIgnoreCase))
            {
                if (!directoryCurrent)
                {
                    return CatchUpFirst; // perhaps an address given to the user a moment ago: look again first
                }
                var reply = new SmtpReply(553, "5.7.1", $"Sender address rejected: <{mailbox.Address}> is not owned by {_authenticatedUser}");
                LogRefusal("sender-not-owned", reply, $"user={_authenticatedUser}");
                _refused++;
                return reply;
            }
        }
        if (!_server.SendingLimits.MayStartMessage(_authenticatedUser))
        {
            LogOverLimit(_authenticatedUser, "messages", _server.SendingLimits.MessagesPerHour);
            return SendingLimitReached;
        }
        return null;
    }

    /// <summary>
    /// Checks the From: header against the user, adds a missing Date and Message-ID (RFC 6409 §8.2-8.3)
    /// and DKIM-signs for the From: domain. The Received header stays first.
    /// </summary>
    private (SmtpReply? Refusal, ReadOnlyMemory<byte> Content) PrepareSubmission(ReadOnlyMemory<byte> content, int receivedLength, DateTimeOffset now)
    {
        var received = content[..receivedLength];
        var message = content[receivedLength..];
        var outcome = SubmittedHeaders.Check(message, _authenticatedUser, _server.Directory(), Hostname, now);
        if (outcome.Refusal is not null)
        {
            return (outcome.Refusal, content);
        }
        ReadOnlyMemory<byte> body = message;
        if (outcome.HeadersToAdd.Length > 0)
        {
            var added = Encoding.ASCII.GetBytes(outcome.HeadersToAdd);
            var merged = new byte[added.Length + message.Length];
            added.CopyTo(merged, 0);
            message.CopyTo(merged.AsMemory(added.Length));
            body = merged;
        }
        if (_server.SignOutbound is { } sign && outcome.FromDomain is { } domain)
        {
            body = sign(body, domain);
        }
        var result = new byte[received.Length + body.Length];
        received.CopyTo(result);
        body.CopyTo(result.AsMemory(received.Length));
        return (null, result);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "sending limit reached user={User} limit={Kind} per_hour={PerHour}")]
    private partial void LogOverLimit(string user, string kind, int perHour);
}
