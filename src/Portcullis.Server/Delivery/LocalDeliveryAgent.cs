using Microsoft.Extensions.Logging;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Delivery;

/// <summary>
/// Moves local recipients from the queue into their mailboxes, in batches. It wakes as soon as a message
/// is committed (so an idle server delivers within milliseconds) and otherwise polls for retries.
/// A recipient leaves the queue only after its mailbox write is durable.
/// </summary>
public sealed partial class LocalDeliveryAgent(IMessageQueue queue, IMailboxDelivery mailboxes, ILogger logger)
{
    private const int BatchSize = 256;
    private static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(100);
    private readonly ILogger _logger = logger;

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var work = await queue.ClaimDueAsync(BatchSize, DateTimeOffset.UtcNow, RecipientRoute.Local, ct).ConfigureAwait(false);
                if (work.Count == 0)
                {
                    await queue.WaitForWorkAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    // Gather: let a burst of commits build up so one batch shares the mailbox fsyncs,
                    // while an idle server still delivers well within a second.
                    await Task.Delay(GatherDelay, ct).ConfigureAwait(false);
                    continue;
                }
                var results = await mailboxes.DeliverAsync(work, ct).ConfigureAwait(false);
                await queue.CompleteAsync(results, ct).ConfigureAwait(false);
                foreach (var r in results)
                {
                    var w = work.First(x => x.MessageId == r.MessageId && x.RecipientIndex == r.RecipientIndex);
                    if (r.Outcome == AttemptOutcome.Delivered)
                    {
                        LogDelivered(QueueIdGenerator.Format(r.MessageId), w.Address, r.Detail ?? "");
                    }
                    else
                    {
                        LogNotDelivered(QueueIdGenerator.Format(r.MessageId), w.Address, r.Outcome, r.Detail ?? "");
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "local delivery pass failed; retrying in 5 s");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "delivered id={Id} to=<{To}> mailbox={Detail}")]
    private partial void LogDelivered(string id, string to, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "not delivered id={Id} to=<{To}> outcome={Outcome} detail=\"{Detail}\"")]
    private partial void LogNotDelivered(string id, string to, AttemptOutcome outcome, string detail);
}
