namespace Portcullis.Server.Queue;

/// <summary>
/// The durable queue. <see cref="EnqueueAsync"/> completes only when the message is on stable storage
/// (DESIGN principle 4: durable before 250). Implementations share one commit between concurrent
/// callers (group commit). The embedded store is SQLite; PostgreSQL can implement the same contract.
/// </summary>
public interface IMessageQueue : IAsyncDisposable
{
    /// <summary>Makes a new queue id: unique, increasing over time.</summary>
    long NewId();

    Task EnqueueAsync(QueuedMessage message, CancellationToken ct);

    /// <summary>Recipients whose next attempt is due, oldest first.</summary>
    Task<IReadOnlyList<DeliveryWork>> ClaimDueAsync(int max, DateTimeOffset now, Policy.RecipientRoute route, CancellationToken ct);

    /// <summary>Records attempt results; a message leaves the queue when none of its recipients is pending.</summary>
    Task CompleteAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct);

    /// <summary>Signalled when new work was enqueued, so delivery need not poll.</summary>
    Task WaitForWorkAsync(TimeSpan max, CancellationToken ct);

    /// <summary>How many messages and pending recipients are queued.</summary>
    Task<(int Messages, int PendingRecipients)> CountAsync(CancellationToken ct);
}
