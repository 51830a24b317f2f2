using System.Text;
using Portcullis.Server.Delivery;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Delivery;

public sealed class InlineLocalDeliveryTests : IDisposable
{
    private static readonly DateTimeOffset ReceivedAt = DateTimeOffset.FromUnixTimeSeconds(1_795_000_000);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("Received: by mx.example.test\r\nSubject: t\r\n\r\nhello\r\n");

    private readonly TempDataDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static QueuedMessage Message(long id, params string[] to) =>
        new(id, "bob@remote.example", to.Select(a => new QueuedRecipient(a, RecipientRoute.Local)).ToList(), Body, ReceivedAt);

    private string New(string local) => Path.Combine(_dir.Path, "mail", "example.test", local, "Maildir", "new");

    private string Tmp(string local) => Path.Combine(_dir.Path, "mail", "example.test", local, "Maildir", "tmp");

    /// <summary>Under SyncFs a copy keeps its tmp/ name until a later barrier has made its link into new/ durable.</summary>
    private async Task<string[]> TmpOnceReleasedAsync(string local)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (System.IO.Directory.GetFiles(Tmp(local)).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        return System.IO.Directory.GetFiles(Tmp(local));
    }

    [Theory]
    [InlineData(MaildirBatchDurability.SyncFs)]
    [InlineData(MaildirBatchDurability.ParallelFsync)]
    public async Task Every_recipient_gets_one_copy_under_the_name_queued_delivery_would_use(MaildirBatchDurability durability)
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: durability);
        await using var inline = new InlineLocalDelivery(writer, "mx.example.test");

        var results = await inline.DeliverAsync(Message(0x2A, "alice@example.test", "carol@example.test"), CancellationToken.None);

        Assert.All(results, r => Assert.Equal(MaildirOutcome.Delivered, r.Outcome));
        Assert.Equal(Path.Combine(New("alice"), "1795000000.P2AR0.mx.example.test"), results[0].Path);
        Assert.Equal(Path.Combine(New("carol"), "1795000000.P2AR1.mx.example.test"), results[1].Path);
        Assert.Equal("Return-Path: <bob@remote.example>\nReceived: by mx.example.test\nSubject: t\n\nhello\n", await File.ReadAllTextAsync(results[0].Path!));

        // Had the message gone to the queue as well (a partial failure), queued delivery finds these copies.
        var queued = await new MaildirMailboxDelivery(writer, "mx.example.test").DeliverAsync(
            [new DeliveryWork(0x2A, 0, "bob@remote.example", "alice@example.test", RecipientRoute.Local, 0, ReceivedAt, Body)], CancellationToken.None);
        Assert.Equal(AttemptOutcome.Delivered, queued[0].Outcome);
        Assert.Single(System.IO.Directory.GetFiles(New("alice")));
        Assert.Empty(await TmpOnceReleasedAsync("alice"));
    }

    [Fact]
    public async Task Messages_finishing_together_are_all_delivered_each_with_its_own_results()
    {
        await using var inline = new InlineLocalDelivery(new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs), "mx.example.test");

        var all = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => inline.DeliverAsync(Message(i, i % 2 == 0 ? "alice@example.test" : "carol@example.test"), CancellationToken.None)));

        for (var i = 1; i <= 200; i++)
        {
            var r = Assert.Single(all[i - 1]);
            Assert.Equal(MaildirOutcome.Delivered, r.Outcome);
            Assert.EndsWith($".P{i:X}R0.mx.example.test", r.Path, StringComparison.Ordinal);
        }
        Assert.Equal(100, System.IO.Directory.GetFiles(New("alice")).Length);
        Assert.Equal(100, System.IO.Directory.GetFiles(New("carol")).Length);
        // Once the burst is over a last round makes the final links durable and removes their tmp/ names.
        Assert.Empty(await TmpOnceReleasedAsync("alice"));
        Assert.Empty(await TmpOnceReleasedAsync("carol"));
    }

    [Fact]
    public async Task A_copy_keeps_its_tmp_name_until_a_later_barrier_and_recovery_would_find_it_whole_there()
    {
        var writer = new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs);
        string staged;
        // No other message will come, and the release delay is longer than the test: only stopping releases it.
        await using (var inline = new InlineLocalDelivery(writer, "mx.example.test", releaseAfter: TimeSpan.FromMinutes(5)))
        {
            var r = Assert.Single(await inline.DeliverAsync(Message(9, "alice@example.test"), CancellationToken.None));
            Assert.Equal(MaildirOutcome.Delivered, r.Outcome);
            // Acknowledged: linked into new/, and (until the next round) still named in tmp/, the same file.
            staged = Assert.Single(System.IO.Directory.GetFiles(Tmp("alice")));
            Assert.Equal(await File.ReadAllBytesAsync(r.Path!), await File.ReadAllBytesAsync(staged));
            Assert.True(MaildirStagingName.TryParse(Path.GetFileName(staged), out var name, out var length, out var checksum));
            Assert.Equal(Path.GetFileName(r.Path), name);
            Assert.True(MaildirStagingName.IsIntact(staged, length, checksum));
        }
        // Stopping runs the last round: nothing is left in tmp/.
        Assert.False(File.Exists(staged));
        Assert.Single(System.IO.Directory.GetFiles(New("alice")));
    }

    [Fact]
    public async Task A_mailbox_that_cannot_be_written_fails_only_its_own_copy()
    {
        await using var inline = new InlineLocalDelivery(new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs), "mx.example.test");
        System.IO.Directory.CreateDirectory(Path.Combine(_dir.Path, "mail", "example.test"));
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "mail", "example.test", "carol"), "not a directory");

        var results = await inline.DeliverAsync(Message(7, "alice@example.test", "carol@example.test"), CancellationToken.None);

        Assert.Equal(MaildirOutcome.Delivered, results[0].Outcome);
        Assert.Equal(MaildirOutcome.Failed, results[1].Outcome);
        Assert.NotNull(results[1].Error);
    }

    [Fact]
    public async Task A_copy_whose_link_into_new_fails_is_failed_and_leaves_nothing_in_tmp_and_the_next_lands()
    {
        await using var inline = new InlineLocalDelivery(new MaildirWriter(_dir.Path, batchDurability: MaildirBatchDurability.SyncFs), "mx.example.test");
        Assert.Equal(MaildirOutcome.Delivered, (await inline.DeliverAsync(Message(1, "alice@example.test"), CancellationToken.None))[0].Outcome);
        var newDir = New("alice");
        var aside = newDir + ".aside";
        System.IO.Directory.Move(newDir, aside);
        await File.WriteAllTextAsync(newDir, "new/ is not a directory now");

        var failed = await inline.DeliverAsync(Message(2, "alice@example.test"), CancellationToken.None);

        Assert.Equal(MaildirOutcome.Failed, failed[0].Outcome);
        Assert.Empty(System.IO.Directory.GetFiles(Path.Combine(_dir.Path, "mail", "example.test", "alice", "Maildir", "tmp")));
        File.Delete(newDir);
        System.IO.Directory.Move(aside, newDir);
        Assert.Equal(MaildirOutcome.Delivered, (await inline.DeliverAsync(Message(3, "alice@example.test"), CancellationToken.None))[0].Outcome);
        Assert.Equal(2, System.IO.Directory.GetFiles(newDir).Length);
    }
}
