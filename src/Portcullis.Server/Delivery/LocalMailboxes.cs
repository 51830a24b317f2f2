using System.Text;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Delivery;

/// <summary>
/// Local delivery into Maildir (&lt;data_dir&gt;/mail/&lt;domain&gt;/&lt;user&gt;/Maildir), one copy per mailbox, with the
/// Return-Path the final delivery adds (RFC 5321 §4.4). File names are derived from the queue id and
/// recipient index, so a delivery repeated after a crash finds its earlier copy and does not duplicate it.
/// </summary>
public sealed class LocalMailboxes(string dataDir, string hostname) : IMailboxDelivery
{
    public Task<IReadOnlyList<AttemptResult>> DeliverAsync(IReadOnlyList<DeliveryWork> batch, CancellationToken ct)
    {
        var results = new List<AttemptResult>(batch.Count);
        foreach (var w in batch)
        {
            try
            {
                var path = Deliver(w);
                results.Add(new AttemptResult(w.MessageId, w.RecipientIndex, AttemptOutcome.Delivered, path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A local fault: try again later, never bounce for it.
                results.Add(new AttemptResult(w.MessageId, w.RecipientIndex, AttemptOutcome.Deferred, e.Message, DateTimeOffset.UtcNow.AddMinutes(1)));
            }
        }
        return Task.FromResult<IReadOnlyList<AttemptResult>>(results);
    }

    private string Deliver(DeliveryWork w)
    {
        var at = w.Address.LastIndexOf('@');
        var maildir = Path.Combine(dataDir, "mail", w.Address[(at + 1)..], w.Address[..at], "Maildir");
        var name = $"{w.ReceivedAt.ToUnixTimeSeconds()}.P{QueueIdGenerator.Format(w.MessageId)}R{w.RecipientIndex}.{hostname}";
        var header = Encoding.UTF8.GetBytes($"Return-Path: <{w.Sender}>\r\n");
        return MaildirWriter.Write(maildir, name, header, w.Content);
    }
}
