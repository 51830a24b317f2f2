using Portcullis.Server.Policy;

namespace Portcullis.Server.Queue;

/// <summary>One recipient of a queued message and where it goes.</summary>
public sealed record QueuedRecipient(string Address, RecipientRoute Route, string? Notify = null, string? OriginalRecipient = null);

/// <summary>
/// A message as the queue keeps it: envelope and content (headers and body, CRLF line endings, the
/// Received header already added). The sender is "" for the null reverse-path &lt;&gt;.
/// </summary>
public sealed record QueuedMessage(
    long Id,
    string Sender,
    IReadOnlyList<QueuedRecipient> Recipients,
    ReadOnlyMemory<byte> Content,
    DateTimeOffset ReceivedAt,
    string? EnvelopeId = null,
    string? Ret = null,
    bool IsBounce = false);

/// <summary>A recipient due for a delivery attempt, with what delivery needs.</summary>
public sealed record DeliveryWork(long MessageId, int RecipientIndex, string Sender, string Address, RecipientRoute Route, int Attempts, DateTimeOffset ReceivedAt, byte[] Content);

/// <summary>The result of one delivery attempt for one recipient.</summary>
public enum AttemptOutcome
{
    Delivered,
    /// <summary>Try again later (4xx, connection failure, local transient error).</summary>
    Deferred,
    /// <summary>Permanent failure (5xx): a bounce goes to the sender (issue 3).</summary>
    Failed,
}

public sealed record AttemptResult(long MessageId, int RecipientIndex, AttemptOutcome Outcome, string? Detail = null, DateTimeOffset? RetryAt = null);
