using Microsoft.Extensions.Logging;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Remote;

namespace Portcullis.Server.Delivery;

/// <summary>
/// Moves local recipients from the queue into their mailboxes, in batches. It wakes as soon as a message
/// is committed (so an idle server delivers within milliseconds) and otherwise polls for retries.
/// A recipient leaves the queue only after its mailbox write is durable. A local fault (a broken mailbox
/// directory, a full disk) is retried every minute until the message has been queued for
/// <paramref name="lifetime"/> (delivery.lifetime); then the recipient fails with 4.4.7 and the sender gets
/// a bounce, as for remote recipients (RFC 5321 §4.5.4.1).
/// </summary>
public sealed partial class LocalDeliveryAgent(IMessageQueue queue, IMailboxDelivery mailboxes, ILogger logger, string hostname, TimeSpan lifetime, Func<DirectorySnapshot> directory,
    Telemetry.ServerMetrics? metrics = null)
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
                var results = (await mailboxes.DeliverAsync(work, ct).ConfigureAwait(false)).ToList();
                var byKey = work.ToDictionary(w => (w.MessageId, w.RecipientIndex));
                var now = DateTimeOffset.UtcNow;
                var bounces = Expire(results, byKey, now);
                bounces.AddRange(SuccessNotices(results, byKey, now));
                await queue.CompleteAsync(results, bounces, ct).ConfigureAwait(false);
                foreach (var r in results)
                {
                    var w = byKey[(r.MessageId, r.RecipientIndex)];
                    metrics?.Delivery(Telemetry.DeliveryAgentKind.Local, r.Outcome);
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

    /// <summary>
    /// Turns deferrals of recipients queued longer than the lifetime into failures (4.4.7, "delivery time
    /// expired", RFC 3463) and returns the bounces they cause, one per message, to be queued in the same commit.
    /// </summary>
    private List<QueuedMessage> Expire(List<AttemptResult> results, Dictionary<(long, int), DeliveryWork> byKey, DateTimeOffset now)
    {
        var failed = new List<(DeliveryWork Work, FailedRecipient Failed)>();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var w = byKey[(r.MessageId, r.RecipientIndex)];
            if (r.Outcome != AttemptOutcome.Deferred || now - w.ReceivedAt < lifetime)
            {
                continue;
            }
            var failure = RemoteFailure.Fatal("4.4.7", $"gave up after {lifetime.TotalDays:0.##} days in the queue; last error: {r.Detail}");
            results[i] = r with { Outcome = AttemptOutcome.Failed, Detail = failure.ToString(), RetryAt = null };
            if (BounceReport.MayReport(w))
            {
                failed.Add((w, new FailedRecipient(w.Address, w.OriginalRecipient, failure, now)));
            }
        }
        var bounces = new List<QueuedMessage>();
        foreach (var (notice, original) in DeliveryStatusReport.PerMessage(failed, (o, f) => BounceReport.Build(hostname, o, f, now), queue.NewId, directory(), now))
        {
            bounces.Add(notice);
            LogBounce(QueueIdGenerator.Format(notice.Id), QueueIdGenerator.Format(original.MessageId), original.Sender);
        }
        return bounces;
    }

    /// <summary>
    /// The "delivered" notices for recipients whose sender asked for them (RFC 3461 §5.2.3), one per
    /// message, queued in the same commit as the deliveries they report.
    /// </summary>
    private List<QueuedMessage> SuccessNotices(List<AttemptResult> results, Dictionary<(long, int), DeliveryWork> byKey, DateTimeOffset now)
    {
        var notices = new List<QueuedMessage>();
        var delivered = results
            .Where(r => r.Outcome == AttemptOutcome.Delivered)
            .Select(r => byKey[(r.MessageId, r.RecipientIndex)])
            .Where(SuccessReport.Wanted)
            .Select(w => (w, SuccessReport.Delivered(w, now)));
        foreach (var (notice, original) in DeliveryStatusReport.PerMessage(delivered, (o, d) => SuccessReport.Build(hostname, o, d, now), queue.NewId, directory(), now))
        {
            notices.Add(notice);
            LogSuccessNotice(QueueIdGenerator.Format(notice.Id), QueueIdGenerator.Format(original.MessageId), original.Sender);
        }
        return notices;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "success notice id={Id} for id={Original} to=<{Sender}> action=delivered (NOTIFY=SUCCESS)")]
    private partial void LogSuccessNotice(string id, string original, string sender);

    [LoggerMessage(Level = LogLevel.Warning, Message = "bounce id={Id} for id={Original} to=<{Sender}>: a local recipient expired in the queue")]
    private partial void LogBounce(string id, string original, string sender);

    [LoggerMessage(Level = LogLevel.Information, Message = "delivered id={Id} to=<{To}> mailbox={Detail}")]
    private partial void LogDelivered(string id, string to, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "not delivered id={Id} to=<{To}> outcome={Outcome} detail=\"{Detail}\"")]
    private partial void LogNotDelivered(string id, string to, AttemptOutcome outcome, string detail);
}
