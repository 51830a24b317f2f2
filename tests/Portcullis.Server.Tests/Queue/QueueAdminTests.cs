using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Queue;

/// <summary>The queue's bookkeeping for remote delivery and the administrator's view of it.</summary>
public sealed class QueueAdminTests : IAsyncLifetime
{
    private readonly TempDataDir _data = new();
    private SqliteMessageQueue _queue = null!;

    public Task InitializeAsync()
    {
        _queue = SqliteMessageQueue.Open(Path.Combine(_data.Path, "queue"), NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _queue.DisposeAsync();
        _data.Dispose();
    }

    private async Task<long> EnqueueAsync(params (string Address, RecipientRoute Route)[] recipients)
    {
        var id = _queue.NewId();
        await _queue.EnqueueAsync(new QueuedMessage(id, "alice@example.test", recipients.Select(r => new QueuedRecipient(r.Address, r.Route, "FAILURE")).ToList(),
            "Subject: x\r\n\r\nbody\r\n"u8.ToArray(), DateTimeOffset.UtcNow, "env-1", "HDRS"), CancellationToken.None);
        return id;
    }

    [Fact]
    public async Task A_failed_recipient_and_its_bounce_are_recorded_in_one_commit()
    {
        var id = await EnqueueAsync(("bob@remote.test", RecipientRoute.Remote));
        var work = Assert.Single(await _queue.ClaimDueAsync(10, DateTimeOffset.UtcNow, RecipientRoute.Remote, CancellationToken.None));
        Assert.Equal(("FAILURE", "env-1", "HDRS", false), (work.Notify, work.EnvelopeId, work.Ret, work.IsBounce));
        var bounceId = _queue.NewId();
        var bounce = new QueuedMessage(bounceId, "", [new QueuedRecipient("alice@example.test", RecipientRoute.Local)], "Subject: bounce\r\n\r\n"u8.ToArray(), DateTimeOffset.UtcNow, IsBounce: true);
        await _queue.CompleteAsync([new AttemptResult(id, 0, AttemptOutcome.Failed, "550 5.1.1 no")], [bounce], CancellationToken.None);

        using var admin = QueueAdmin.Open(_data.Path)!;
        var left = Assert.Single(admin.List());
        Assert.Equal(bounceId, left.Id);
        Assert.True(left.IsBounce);
        Assert.Equal(RecipientRoute.Local, Assert.Single(left.Recipients).Route);
        // The bounce wakes the local agent, not the remote one.
        Assert.Single(await _queue.ClaimDueAsync(10, DateTimeOffset.UtcNow, RecipientRoute.Local, CancellationToken.None));
    }

    [Fact]
    public async Task A_deferred_recipient_waits_for_its_retry_time_unless_retried_now()
    {
        var id = await EnqueueAsync(("bob@remote.test", RecipientRoute.Remote), ("carol@remote.test", RecipientRoute.Remote));
        var work = await _queue.ClaimDueAsync(10, DateTimeOffset.UtcNow, RecipientRoute.Remote, CancellationToken.None);
        Assert.Equal(2, work.Count);
        var later = DateTimeOffset.UtcNow.AddHours(1);
        await _queue.CompleteAsync([new AttemptResult(id, 0, AttemptOutcome.Deferred, "450 4.2.0 later", later), new AttemptResult(id, 1, AttemptOutcome.Delivered, "250 ok")], CancellationToken.None);
        Assert.Empty(await _queue.ClaimDueAsync(10, DateTimeOffset.UtcNow, RecipientRoute.Remote, CancellationToken.None));

        using var admin = QueueAdmin.Open(_data.Path)!;
        var shown = admin.Show(id)!;
        Assert.Equal("Subject: x\r\n\r\nbody\r\n"u8.ToArray(), shown.Content);
        var bob = shown.Recipients.Single(r => r.Address == "bob@remote.test");
        Assert.Equal((RecipientStatus.Pending, 1, "450 4.2.0 later"), (bob.Status, bob.Attempts, bob.LastError));
        Assert.Equal(RecipientStatus.Delivered, shown.Recipients.Single(r => r.Address == "carol@remote.test").Status);

        Assert.Equal(1, admin.RetryNow(id));
        var due = Assert.Single(await _queue.ClaimDueAsync(10, DateTimeOffset.UtcNow, RecipientRoute.Remote, CancellationToken.None));
        Assert.Equal(("bob@remote.test", 1, "450 4.2.0 later"), (due.Address, due.Attempts, due.LastError));

        Assert.True(admin.Delete(id));
        Assert.False(admin.Delete(id));
        Assert.Empty(admin.List());
    }
}
