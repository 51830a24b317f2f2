using System.Threading.Channels;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Delivery;

/// <summary>
/// Delivers a message whose every recipient is a local mailbox straight into the Maildirs before the reply
/// to the final dot, instead of committing it to the queue and copying it out again. The acknowledgement
/// still waits for stable storage (DESIGN principle 4; RFC 5321 §6.1): the 250 is sent only after the
/// copies are written and synced and put into new/ in a way that a crash cannot undo (on Linux linked, their
/// tmp/ names kept until the links are durable, <see cref="ChainedLoopAsync"/>; elsewhere renamed and the
/// renames synced, <see cref="LoopAsync"/>).
/// Messages that finish DATA at about the same time share those barriers: one loop takes everything that
/// is waiting and delivers it as one batch (group commit, as the queue's writer does for SQLite).
/// A crash after the copies reach new/ and before the 250 can make the client send the message again (a duplicate,
/// which RFC 5321 §6.1 accepts); it can never lose an acknowledged message.
/// </summary>
public sealed class InlineLocalDelivery : IAsyncDisposable
{
    /// <summary>The most copies one batch takes: a burst larger than this shares several barriers.</summary>
    private const int MaxBatchCopies = 512;

    /// <summary>
    /// Batches that may be writing and syncing at the same time. Two halved the wait for the 250 after the
    /// final dot at 10 sessions (median 7.1 -> 2.7 ms, bench/RESULTS.md); each batch is still whole on its
    /// own (its syncfs precedes its renames), so they need no order between them.
    /// </summary>
    private const int BatchesInFlight = 2;

    private readonly MaildirWriter _writer;
    private readonly string _hostname;
    private readonly Channel<Pending> _waiting = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private readonly TimeSpan _releaseAfter;

    /// <param name="releaseAfter">
    /// how long the tmp/ names of linked copies may wait for the next message's round before a round of their
    /// own removes them (default half a second; the wait costs nothing but the names lingering in tmp/)
    /// </param>
    public InlineLocalDelivery(MaildirWriter writer, string hostname, TimeSpan? releaseAfter = null)
    {
        _writer = writer;
        _hostname = hostname;
        _releaseAfter = releaseAfter ?? TimeSpan.FromMilliseconds(500);
        _loop = Task.Run(writer.BatchDurability == MaildirBatchDurability.SyncFs ? ChainedLoopAsync : LoopAsync);
    }

    /// <summary>
    /// Delivers one copy per recipient (recipient i gets the Maildir name the queue would give it, so a
    /// later queued attempt for the same message finds the copy instead of making a second one). Returns,
    /// per recipient, whether its copy is durably in new/ (false: deliver it through the queue).
    /// </summary>
    public async Task<IReadOnlyList<MaildirResult>> DeliverAsync(QueuedMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var id = QueueIdGenerator.Format(message.Id);
        var returnPath = MaildirMessage.ReturnPathLine(message.Sender);
        // Each session writes its own copies into tmp/ before it joins a batch (on its own thread, without an
        // fsync): the batch then holds only the barriers and the links, and the 250s waiting for it come
        // sooner (the writes were a sixth of a batch's time at 10 sessions, bench/RESULTS.md).
        var copies = new StagedCopy[message.Recipients.Count];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = _writer.Stage(new MaildirMessage(message.Recipients[i].Address, MaildirMessage.NameFor(message.ReceivedAt, id, i, _hostname), [returnPath, message.Content]), nameIsNew: true);
        }
        // Continuations run where the result is set: the session goes on (logs the delivery, sends its 250, starts
        // reading the next command, which waits without blocking) on the I/O thread that finished the round,
        // instead of being handed to the thread pool, a wake-up and a context switch per message (a prototype
        // measured +5% at 10 sessions over six pairs, the final code within the noise: bench/RESULTS.md "accept,
        // session 7"). What a session does there is short and never blocks.
        var pending = new Pending(copies, new TaskCompletionSource<IReadOnlyList<MaildirResult>>());
        if (!_waiting.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(InlineLocalDelivery));
        }
        // Not cancellable once handed over: the batch may already be writing this message's copies, and the
        // caller must learn whether they landed.
        return await pending.Done.Task.ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        var reader = _waiting.Reader;
        var inFlight = new List<Task>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Up to BatchesInFlight batches at once: copies that arrive while a batch waits for its barrier
            // start their own at once instead of waiting for it to finish (their 250 would otherwise wait
            // for one and a half batches on average).
            if (inFlight.Count == BatchesInFlight)
            {
                inFlight.Remove(await Task.WhenAny(inFlight).ConfigureAwait(false));
                continue; // the completed batch may have left nothing to read
            }
            var batch = new List<Pending>();
            var copies = new List<StagedCopy>();
            while (copies.Count < MaxBatchCopies && reader.TryRead(out var p))
            {
                batch.Add(p);
                copies.AddRange(p.Copies);
            }
            if (batch.Count > 0)
            {
                inFlight.Add(DeliverBatchAsync(batch, copies));
            }
        }
        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    /// <summary>
    /// Group commit with one barrier per round (Linux, syncfs): each round's syncfs(2) makes durable the copies
    /// staged in tmp/ since the last round (data, inode and tmp/ entry); then each is linked into new/ and
    /// acknowledged. The link itself becomes durable with the next round's syncfs, which is when the copy's
    /// tmp/ name is removed (qmail's "link tmp/x to new/x, unlink tmp/x", https://cr.yp.to/proto/maildir.html):
    /// until then a crash leaves an acknowledged copy whole in tmp/, and <see cref="MaildirWriter.RecoverStaged"/>
    /// puts it into new/ at the next start. So a copy is synced before it appears in new/ and cannot be lost once
    /// acknowledged (DESIGN principle 4), and its 250 waits for one flush, not two (bench/RESULTS.md, "accept,
    /// session 7"). Copies that arrive during a round wait for it and go into the next. After a burst, one more
    /// round (half a second later, or sooner with the next message) removes the last tmp/ names.
    /// </summary>
    private async Task ChainedLoopAsync()
    {
        var reader = _waiting.Reader;
        var linked = new List<string>();
        while (true)
        {
            var more = linked.Count == 0 ? await reader.WaitToReadAsync().ConfigureAwait(false) : await WaitBrieflyAsync(reader).ConfigureAwait(false);
            if (!more && linked.Count == 0)
            {
                return; // disposed, and nothing left to release
            }
            var release = linked;
            await MaildirIoThreads.Run(() => linked = Rounds(reader, release)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Rounds back to back on one I/O thread for as long as messages are waiting when a round ends; returns the
    /// tmp/ names the last round linked. Under load the next round starts here instead of after a hand-off to
    /// the thread pool and back to an I/O thread, two wake-ups per round (bench/RESULTS.md, "accept, session 9").
    /// </summary>
    private List<string> Rounds(ChannelReader<Pending> reader, List<string> release)
    {
        while (true)
        {
            var batch = new List<Pending>();
            for (var copies = 0; copies < MaxBatchCopies && reader.TryRead(out var p); copies += p.Copies.Length)
            {
                batch.Add(p);
            }
            var linked = new List<string>();
            try
            {
                Round(release, batch, linked);
            }
            catch (Exception e)
            {
                // Round catches the filesystem's errors; anything else fails what it held, never loses it silently
                // (a copy already linked stays in tmp/ too, for the recovery at the next start).
                foreach (var p in batch)
                {
                    p.Done.TrySetException(e);
                }
            }
            if (!reader.TryPeek(out _))
            {
                return linked;
            }
            release = linked;
        }
    }

    /// <summary>Whether a message is waiting, or arrives within the release delay; false when the delay passes or on disposal.</summary>
    private async ValueTask<bool> WaitBrieflyAsync(ChannelReader<Pending> reader)
    {
        if (reader.TryPeek(out _))
        {
            return true;
        }
        using var quiet = new CancellationTokenSource(_releaseAfter);
        try
        {
            return await reader.WaitToReadAsync(quiet.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One round of <see cref="ChainedLoopAsync"/>, on an I/O thread.</summary>
    private void Round(List<string> release, List<Pending> batch, List<string> linked)
    {
        IOException? barrier = null;
        try
        {
            _writer.SyncFileSystem();
        }
        catch (IOException e)
        {
            barrier = e;
        }
        if (barrier is null)
        {
            // The last round's links are durable now: their tmp/ names can go.
            foreach (var tmp in release)
            {
                MaildirWriter.ReleaseStaged(tmp);
            }
        }
        else
        {
            linked.AddRange(release); // not known durable yet: kept for a later barrier (or the recovery)
        }
        var done = new MaildirResult[batch.Count][];
        for (var b = 0; b < batch.Count; b++)
        {
            var pending = batch[b];
            var results = done[b] = new MaildirResult[pending.Copies.Length];
            for (var i = 0; i < results.Length; i++)
            {
                var copy = pending.Copies[i];
                if (barrier is not null && copy.Tmp is not null)
                {
                    // The data barrier failed: nothing of this round may become visible. The client retries (or
                    // the queue takes the message); never a copy in new/ whose data may not be on disk.
                    MaildirFileSystem.TryDelete(copy.Tmp);
                    results[i] = new MaildirResult(copy.Message, MaildirOutcome.Failed, null, barrier);
                    continue;
                }
                results[i] = _writer.LinkIntoNew(copy);
                if (results[i].Outcome == MaildirOutcome.Delivered)
                {
                    linked.Add(copy.Tmp!);
                }
            }
        }
        // Every copy of the round is in place before the first session goes on (each sends its reply from here).
        for (var b = 0; b < batch.Count; b++)
        {
            batch[b].Done.TrySetResult(done[b]);
        }
    }

    private async Task DeliverBatchAsync(List<Pending> batch, List<StagedCopy> copies)
    {
        IReadOnlyList<MaildirResult> results;
        try
        {
            results = await _writer.CommitAsync(copies).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            foreach (var p in batch)
            {
                p.Done.TrySetException(e);
            }
            return;
        }
        var offset = 0;
        foreach (var p in batch)
        {
            p.Done.TrySetResult(results.Skip(offset).Take(p.Copies.Length).ToArray());
            offset += p.Copies.Length;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private sealed record Pending(StagedCopy[] Copies, TaskCompletionSource<IReadOnlyList<MaildirResult>> Done);
}
