using System.Globalization;
using System.Text;

namespace Portcullis.Server.Delivery;

/// <summary>
/// One copy of a message for one mailbox. <see cref="UniqueName"/> must be the same every time this copy
/// is delivered (built from the queue id and the recipient's index, see <see cref="MaildirMessage.NameFor"/>):
/// that is what lets a redelivery after a crash find the copy already there and not write it twice.
/// <see cref="Content"/> is the message as it goes into the file, in order (typically the Return-Path
/// line, then the queued message with its Received header); segments avoid copying a large body per recipient.
/// </summary>
/// <param name="Mailbox">the user's address as the directory stores it, e.g. alice@example.test</param>
public sealed record MaildirMessage(string Mailbox, string UniqueName, IReadOnlyList<ReadOnlyMemory<byte>> Content)
{
    public MaildirMessage(string mailbox, string uniqueName, ReadOnlyMemory<byte> content)
        : this(mailbox, uniqueName, [content])
    {
    }

    /// <summary>
    /// The deterministic Maildir base name <c>&lt;unixtime&gt;.P&lt;queueid&gt;R&lt;index&gt;.&lt;hostname&gt;</c>
    /// (the classic time.unique.host form, https://cr.yp.to/proto/maildir.html). <paramref name="queuedAt"/>
    /// must be the message's fixed queue time, not "now", or a redelivery would get another name.
    /// '/' and ':' in the host name are written \057 and \072, as the Maildir convention asks.
    /// </summary>
    public static string NameFor(DateTimeOffset queuedAt, string queueId, int recipientIndex, string hostname)
    {
        ArgumentException.ThrowIfNullOrEmpty(queueId);
        ArgumentOutOfRangeException.ThrowIfNegative(recipientIndex);
        if (queueId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException("a queue id for a Maildir name may contain only letters, digits, '-' and '_'", nameof(queueId));
        }
        var host = hostname.Replace("/", "\\057", StringComparison.Ordinal).Replace(":", "\\072", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"{queuedAt.ToUnixTimeSeconds()}.P{queueId}R{recipientIndex}.{host}");
    }

    /// <summary>
    /// The Return-Path header line the final delivery adds (RFC 5321 §4.4): the envelope's reverse-path,
    /// <c>&lt;&gt;</c> for the null sender. Prepend it to the content.
    /// </summary>
    public static byte[] ReturnPathLine(string reversePath)
    {
        ArgumentNullException.ThrowIfNull(reversePath);
        if (reversePath.Any(c => c is '\r' or '\n' or '\0'))
        {
            // The SMTP reader refuses these; refusing here too keeps a header from ever being injected.
            throw new ArgumentException("a reverse-path has no CR, LF or NUL", nameof(reversePath));
        }
        return Encoding.UTF8.GetBytes($"Return-Path: <{reversePath}>\r\n");
    }

}

/// <summary>What happened to one copy.</summary>
public enum MaildirOutcome
{
    /// <summary>Written and made durable in new/ now.</summary>
    Delivered,

    /// <summary>A copy with this name was already in new/ or cur/ (an earlier attempt got through): nothing written.</summary>
    AlreadyDelivered,

    /// <summary>Not delivered; <see cref="MaildirResult.Error"/> says why. Safe to retry with the same name.</summary>
    Failed,
}

/// <param name="Path">the file in new/ (or the copy found in new/ or cur/); null when it failed</param>
public sealed record MaildirResult(MaildirMessage Message, MaildirOutcome Outcome, string? Path, Exception? Error = null)
{
    public bool Succeeded => Outcome != MaildirOutcome.Failed;
}
