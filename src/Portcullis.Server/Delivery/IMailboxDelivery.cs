using Portcullis.Server.Queue;

namespace Portcullis.Server.Delivery;

/// <summary>Puts queued messages into local mailboxes and says, per recipient, how it went.</summary>
public interface IMailboxDelivery
{
    Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<DeliveryWork> batch, CancellationToken ct);
}
