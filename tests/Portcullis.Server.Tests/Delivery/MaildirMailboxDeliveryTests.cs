using System.Text;
using Portcullis.Server.Delivery;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Delivery;

public sealed class MaildirMailboxDeliveryTests : IDisposable
{
    private static readonly DateTimeOffset ReceivedAt = DateTimeOffset.FromUnixTimeSeconds(1_795_000_000);
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("Received: by mx.example.test\r\nSubject: t\r\n\r\nhello\r\n");

    private readonly TempDataDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DeliveryWork Work(long id, int index, string to, string sender = "bob@remote.example") =>
        new(id, index, sender, to, RecipientRoute.Local, 0, ReceivedAt, Body);

    private string New(string local) => Path.Combine(_dir.Path, "mail", "example.test", local, "Maildir", "new");

    [Fact]
    public async Task Batch_from_the_queue_lands_once_per_recipient_with_return_path()
    {
        var delivery = new MaildirMailboxDelivery(_dir.Path, "mx.example.test");
        var batch = new[] { Work(0x1A, 0, "alice@example.test"), Work(0x1A, 1, "carol@example.test"), Work(0x1B, 0, "alice@example.test", sender: "") };

        var results = await delivery.DeliverAsync(batch, CancellationToken.None);

        Assert.All(results, r => Assert.Equal(AttemptOutcome.Delivered, r.Outcome));
        Assert.Equal([(0x1AL, 0), (0x1AL, 1), (0x1BL, 0)], results.Select(r => (r.MessageId, r.RecipientIndex)));
        var first = Path.Combine(New("alice"), "1795000000.P1AR0.mx.example.test");
        Assert.Equal(first, results[0].Detail);
        Assert.Equal("Return-Path: <bob@remote.example>\nReceived: by mx.example.test\nSubject: t\n\nhello\n", await File.ReadAllTextAsync(first));
        Assert.StartsWith("Return-Path: <>\n", await File.ReadAllTextAsync(Path.Combine(New("alice"), "1795000000.P1BR0.mx.example.test")), StringComparison.Ordinal);
        Assert.Single(System.IO.Directory.GetFiles(New("carol")));

        // The queue hands the same batch out again (a crash before it recorded the results): no duplicates.
        var again = await new MaildirMailboxDelivery(_dir.Path, "mx.example.test").DeliverAsync(batch, CancellationToken.None);
        Assert.All(again, r => Assert.Equal(AttemptOutcome.Delivered, r.Outcome));
        Assert.Equal(2, System.IO.Directory.GetFiles(New("alice")).Length);
    }

    [Fact]
    public async Task A_local_fault_defers_only_the_recipient_it_hit()
    {
        var delivery = new MaildirMailboxDelivery(_dir.Path, "mx.example.test");
        // carol's Maildir path is blocked by a regular file where the directory should be.
        System.IO.Directory.CreateDirectory(Path.Combine(_dir.Path, "mail", "example.test"));
        await File.WriteAllTextAsync(Path.Combine(_dir.Path, "mail", "example.test", "carol"), "not a directory");

        var results = await delivery.DeliverAsync([Work(1, 0, "alice@example.test"), Work(1, 1, "carol@example.test")], CancellationToken.None);

        Assert.Equal(AttemptOutcome.Delivered, results[0].Outcome);
        Assert.Equal(AttemptOutcome.Deferred, results[1].Outcome);
        Assert.NotNull(results[1].RetryAt);
        Assert.Single(System.IO.Directory.GetFiles(New("alice")));
    }
}
