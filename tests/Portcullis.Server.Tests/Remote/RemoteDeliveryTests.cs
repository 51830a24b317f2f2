using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using MimeKit.Cryptography;
using Portcullis.EndToEnd.Tests.Infrastructure;
using Portcullis.Server.Configuration;
using Portcullis.Server.Dkim;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Remote;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Remote;

/// <summary>
/// The remote delivery agent against the real queue (SQLite), a real DNS server and a real Postfix MX:
/// messages are put into the queue as the session would, and the tests look at what Postfix delivered
/// and what the queue holds afterwards.
/// </summary>
[Collection(RemoteWorldCollection.Name)]
public sealed class RemoteDeliveryTests(RemoteWorld world) : IAsyncLifetime
{
    private readonly TempDataDir _data = new();
    private SqliteMessageQueue _queue = null!;
    private readonly CancellationTokenSource _stop = new();
    private Task? _agent;
    private static readonly DirectorySnapshot Directory = new(["example.test"], ["alice@example.test"], []);

    public Task InitializeAsync()
    {
        _queue = SqliteMessageQueue.Open(Path.Combine(_data.Path, "queue"), NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_agent is not null)
        {
            await _agent;
        }
        await _queue.DisposeAsync();
        _data.Dispose();
    }

    private void StartAgent(DeliverySection? delivery = null, ListenersSection? listeners = null)
    {
        var settings = new PortcullisSettings
        {
            Server = new ServerSection { Hostname = "mx.example.test", Postmaster = "alice@example.test" },
            Storage = new StorageSection { DataDir = _data.Path },
            Listeners = listeners ?? new ListenersSection(),
            Tls = new TlsSection(),
            Limits = new LimitsSection(),
            Relay = new RelaySection(),
            Delivery = delivery ?? Delivery(),
        };
        _agent = new RemoteDeliveryAgent(_queue, settings, () => Directory, NullLogger.Instance).RunAsync(_stop.Token);
    }

    private DeliverySection Delivery() => new()
    {
        DnsServers = [world.Dns.Endpoint],
        RetryInitial = TimeSpan.FromSeconds(1),
        RetryMax = TimeSpan.FromSeconds(2),
    };

    private static byte[] Message(string from, string to, string subject, string body = "Hello.\r\n") =>
        Encoding.ASCII.GetBytes($"From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {DateTimeOffset.UtcNow:R}\r\nMessage-ID: <{Guid.NewGuid():N}@example.test>\r\n\r\n{body}");

    private async Task<long> EnqueueAsync(string sender, string[] recipients, byte[] content, bool isBounce = false, string? notify = null, string? envelopeId = null)
    {
        var id = _queue.NewId();
        await _queue.EnqueueAsync(new QueuedMessage(id, sender, recipients.Select(r => new QueuedRecipient(r, RecipientRoute.Remote, notify)).ToList(), content, DateTimeOffset.UtcNow, envelopeId, IsBounce: isBounce), CancellationToken.None);
        return id;
    }

    private IReadOnlyList<QueuedMessageState> QueueState()
    {
        using var admin = QueueAdmin.Open(_data.Path)!;
        return admin.List();
    }

    /// <summary>Waits until the queue no longer holds <paramref name="id"/> (all its recipients done).</summary>
    private async Task WaitUntilGoneAsync(long id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (QueueState().Any(m => m.Id == id))
        {
            Assert.True(DateTime.UtcNow < deadline, $"message {QueueIdGenerator.Format(id)} still queued: " + string.Join("; ", QueueState().SelectMany(m => m.Recipients).Select(r => $"{r.Address} {r.Status} {r.LastError}")));
            await Task.Delay(100);
        }
    }

    private QueuedMessageState SingleBounce()
    {
        var bounce = Assert.Single(QueueState(), m => m.IsBounce);
        using var admin = QueueAdmin.Open(_data.Path)!;
        return admin.Show(bounce.Id)!;
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ed25519")]
    public async Task Mail_for_a_remote_domain_arrives_at_its_postfix_mx_over_tls_with_a_dkim_signature_that_verifies(string algorithm)
    {
        var selector = "t" + algorithm + Guid.NewGuid().ToString("N")[..6];
        var key = new DkimKeyStore(_data.Path).Generate("example.test", selector, algorithm == "rsa" ? DkimSignatureAlgorithm.RsaSha256 : DkimSignatureAlgorithm.Ed25519Sha256);
        world.Dns.AddTxt(key.RecordName, key.RecordValue);
        StartAgent();
        var subject = "dkim " + Guid.NewGuid();
        var signed = new DkimSigning(_data.Path).Sign(Message("alice@example.test", "bob@remote.test", subject, "Body line one.\r\n.leading dot\r\n"), out var domain);
        Assert.Equal("example.test", domain);
        var before = world.Mx.Messages("bob@remote.test").Length;
        var id = await EnqueueAsync("alice@example.test", ["bob@remote.test"], signed.ToArray());

        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        var file = (await world.Mx.WaitForMessagesAsync("bob@remote.test", before + 1, TimeSpan.FromSeconds(10)))
            .Single(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        var received = MimeMessage.Load(file);
        // Postfix records "with ESMTPS" when the transfer was inside TLS (opportunistic STARTTLS).
        Assert.Contains("with ESMTPS", received.Headers[HeaderId.Received], StringComparison.Ordinal);
        Assert.Contains(".leading dot", received.TextBody, StringComparison.Ordinal);
        var signature = received.Headers[received.Headers.IndexOf(HeaderId.DkimSignature)];
        Assert.Contains($"s={selector}", signature.Value, StringComparison.Ordinal);
        var verifier = new DkimVerifier(new DnsDkimKeyLocator(world.Dns.Endpoint));
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        Assert.True(await verifier.VerifyAsync(received, signature), "the DKIM signature did not verify at the receiving side");
    }

    [Fact]
    public async Task A_5xx_fails_only_that_recipient_at_once_and_one_dsn_goes_to_the_local_sender()
    {
        StartAgent();
        var subject = "partly " + Guid.NewGuid();
        var before = world.Mx.Messages("carol@remote.test").Length;
        var id = await EnqueueAsync("alice@example.test", ["carol@remote.test", "nobody@remote.test"], Message("alice@example.test", "carol@remote.test", subject));

        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        Assert.Contains((await world.Mx.WaitForMessagesAsync("carol@remote.test", before + 1, TimeSpan.FromSeconds(10))), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        var bounce = SingleBounce();
        Assert.Equal("", bounce.Sender);
        var to = Assert.Single(bounce.Recipients);
        Assert.Equal(("alice@example.test", RecipientRoute.Local), (to.Address, to.Route));
        var dsn = MimeMessage.Load(new MemoryStream(bounce.Content!));
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = Assert.Single(report.OfType<MessageDeliveryStatus>());
        // MimeKit ends the report with an empty line, which reads back as an empty group.
        var groups = status.StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal(2, groups.Count);
        var recipient = groups[1];
        Assert.Equal("rfc822; nobody@remote.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.StartsWith("smtp; 550 5.1.1", recipient["Diagnostic-Code"], StringComparison.Ordinal);
        Assert.Equal("dns; mx.example.test", groups[0]["Reporting-MTA"]);
        Assert.Equal("dns; mx.remote.test", recipient["Remote-MTA"]);
        // RET absent: the whole original message comes back.
        var returned = Assert.Single(report.OfType<MessagePart>(), p => p is not TextRfc822Headers);
        Assert.Equal(subject, returned.Message!.Subject);
    }

    [Fact]
    public async Task Notify_success_goes_on_to_an_mx_that_takes_dsn_and_no_notice_is_made_here()
    {
        world.Mx.AdvertiseDsn(true);
        StartAgent();
        var notices = CountNotices();
        var subject = "dsn on " + Guid.NewGuid();
        var envid = "env" + Guid.NewGuid().ToString("N")[..8];
        var before = world.Mx.Messages("bob@remote.test").Length;
        var id = await EnqueueAsync("alice@example.test", ["bob@remote.test"], Message("alice@example.test", "bob@remote.test", subject), notify: "SUCCESS", envelopeId: envid);

        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        await world.Mx.WaitForMessagesAsync("bob@remote.test", before + 1, TimeSpan.FromSeconds(10));
        // RFC 3461 §5.2.1: the request went on with the message, so the MX reports the delivery, not us.
        Assert.DoesNotContain(QueueState(), m => m.IsBounce);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (CountNotices() == notices && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(CountNotices() > notices, "Postfix made no success notice, so NOTIFY=SUCCESS did not reach it:\n" + world.Mx.Log);
    }

    /// <summary>Success notices Postfix made ("sender delivery status notification" in its log).</summary>
    private int CountNotices() => world.Mx.Log.Split('\n').Count(l => l.Contains("sender delivery status notification", StringComparison.Ordinal));

    [Fact]
    public async Task Notify_success_to_an_mx_without_dsn_gets_a_relayed_notice_to_the_sender()
    {
        world.Mx.AdvertiseDsn(false);
        try
        {
            StartAgent();
            var subject = "dsn off " + Guid.NewGuid();
            var before = world.Mx.Messages("bob@remote.test").Length;
            var id = await EnqueueAsync("alice@example.test", ["bob@remote.test"], Message("alice@example.test", "bob@remote.test", subject), notify: "SUCCESS,FAILURE", envelopeId: "env-relayed");

            await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
            await world.Mx.WaitForMessagesAsync("bob@remote.test", before + 1, TimeSpan.FromSeconds(10));
            Assert.True(QueueState().Any(m => m.IsBounce), "no relayed notice; the MX's log:\n" + world.Mx.Log);
            var notice = SingleBounce();
            Assert.Equal("", notice.Sender);
            Assert.Equal(("alice@example.test", RecipientRoute.Local), (notice.Recipients.Single().Address, notice.Recipients.Single().Route));
            var dsn = MimeMessage.Load(new MemoryStream(notice.Content!));
            Assert.Equal("Successful Mail Delivery Report", dsn.Subject);
            var report = Assert.IsType<MultipartReport>(dsn.Body);
            var groups = Assert.Single(report.OfType<MessageDeliveryStatus>()).StatusGroups.Where(g => g.Count > 0).ToList();
            Assert.Equal("env-relayed", groups[0]["Original-Envelope-Id"]);
            Assert.Equal("rfc822; bob@remote.test", groups[1]["Final-Recipient"]);
            Assert.Equal("relayed", groups[1]["Action"]);
            Assert.Equal("2.0.0", groups[1]["Status"]);
            Assert.Equal("dns; mx.remote.test", groups[1]["Remote-MTA"]);
            Assert.StartsWith("smtp; 250", groups[1]["Diagnostic-Code"], StringComparison.Ordinal);
            Assert.Equal(subject, Assert.Single(report.OfType<TextRfc822Headers>()).Message!.Subject);
        }
        finally
        {
            world.Mx.AdvertiseDsn(true);
        }
    }

    [Fact]
    public async Task A_4xx_is_retried_with_backoff_and_delivered_once_the_mx_accepts()
    {
        StartAgent();
        var subject = "later " + Guid.NewGuid();
        var id = await EnqueueAsync("alice@example.test", ["later@remote.test"], Message("alice@example.test", "later@remote.test", subject));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        QueuedRecipientState? state = null;
        while (DateTime.UtcNow < deadline && state?.Attempts is not >= 2)
        {
            await Task.Delay(200);
            state = QueueState().SingleOrDefault(m => m.Id == id)?.Recipients.Single();
        }
        Assert.NotNull(state);
        Assert.True(state.Attempts >= 2, $"expected retries, saw {state.Attempts} attempts");
        Assert.Equal(RecipientStatus.Pending, state.Status);
        Assert.Contains("450 4.2.0", state.LastError, StringComparison.Ordinal);

        world.Mx.ReleaseTemporaryFailures();
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        // The remote Postfix answered 250 before its own delivery into the Maildir: wait for the file.
        bool Arrived() => world.Mx.Messages("later@remote.test").Any(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        var arrival = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Arrived() && DateTime.UtcNow < arrival)
        {
            await Task.Delay(100);
        }
        Assert.True(Arrived(), "the message never reached the remote MX's mailbox");
        Assert.DoesNotContain(QueueState(), m => m.IsBounce);
    }

    [Fact]
    public async Task A_temporary_failure_past_the_queue_lifetime_fails_with_4_4_7_and_a_dsn()
    {
        // A destination where nothing listens (connection refused) and a lifetime already over.
        world.Dns.AddMx("gone.test", 10, "dead.backup.test");
        StartAgent(Delivery() with { Lifetime = TimeSpan.FromMilliseconds(1) });
        var id = await EnqueueAsync("alice@example.test", ["x@gone.test"], Message("alice@example.test", "x@gone.test", "expired"));
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(10));
        var dsn = MimeMessage.Load(new MemoryStream(SingleBounce().Content!));
        var recipient = Assert.IsType<MultipartReport>(dsn.Body).OfType<MessageDeliveryStatus>().Single().StatusGroups[1];
        Assert.Equal("4.4.7", recipient["Status"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Contains("connect to dead.backup.test[127.0.5.99]:25 failed", recipient["Diagnostic-Code"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_null_mx_fails_at_once_with_5_1_10_and_a_dsn()
    {
        StartAgent();
        var id = await EnqueueAsync("alice@example.test", ["someone@nullmx.test"], Message("alice@example.test", "someone@nullmx.test", "null mx"));
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(10));
        var dsn = MimeMessage.Load(new MemoryStream(SingleBounce().Content!));
        var status = Assert.IsType<MultipartReport>(dsn.Body).OfType<MessageDeliveryStatus>().Single();
        Assert.Equal("5.1.10", status.StatusGroups[1]["Status"]);
    }

    [Fact]
    public async Task A_failed_bounce_is_never_bounced_again()
    {
        StartAgent();
        var id = await EnqueueAsync("", ["nobody@remote.test"], Message("MAILER-DAEMON@example.test", "nobody@remote.test", "a bounce"), isBounce: true);
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        Assert.Empty(QueueState());
    }

    [Fact]
    public async Task The_mx_hosts_are_tried_by_preference_and_an_unreachable_one_falls_through_to_the_next()
    {
        StartAgent();
        var subject = "backup " + Guid.NewGuid();
        var id = await EnqueueAsync("alice@example.test", ["bob@backup.test"], Message("alice@example.test", "bob@backup.test", subject));
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        Assert.Contains(await world.Mx.WaitForMessagesAsync("bob@backup.test", 1, TimeSpan.FromSeconds(10)), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_domain_without_mx_records_is_delivered_to_its_address_record()
    {
        StartAgent();
        var subject = "implicit " + Guid.NewGuid();
        var id = await EnqueueAsync("alice@example.test", ["bob@implicit.test"], Message("alice@example.test", "bob@implicit.test", subject));
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        Assert.Contains(await world.Mx.WaitForMessagesAsync("bob@implicit.test", 1, TimeSpan.FromSeconds(10)), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_mx_that_is_one_of_our_own_listeners_is_deferred_as_a_mail_loop()
    {
        StartAgent(listeners: new ListenersSection { Mx = new IPEndPoint(IPAddress.Parse(RemoteWorld.OwnListenerAddress), 25) });
        var id = await EnqueueAsync("alice@example.test", ["x@loop.test"], Message("alice@example.test", "x@loop.test", "loop"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        QueuedRecipientState? state = null;
        while (DateTime.UtcNow < deadline && state?.Attempts is not >= 1)
        {
            await Task.Delay(100);
            state = QueueState().Single(m => m.Id == id).Recipients.Single();
        }
        Assert.Equal(RecipientStatus.Pending, state!.Status);
        Assert.Contains("loops back to myself", state.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_smarthost_receives_mail_for_every_domain_without_any_dns_lookup()
    {
        // A resolver where nothing answers: a DNS lookup would fail, so delivery proves none was made.
        StartAgent(new DeliverySection
        {
            RelayHost = RemoteWorld.MxAddress + ":25",
            RelayTls = "none",
            DnsServers = [new IPEndPoint(IPAddress.Parse("127.0.5.99"), 10053)],
            RetryInitial = TimeSpan.FromSeconds(1),
        });
        var subject = "smarthost " + Guid.NewGuid();
        var before = world.Mx.Messages("carol@implicit.test").Length;
        var id = await EnqueueAsync("alice@example.test", ["carol@implicit.test"], Message("alice@example.test", "carol@implicit.test", subject));
        await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        Assert.Contains(await world.Mx.WaitForMessagesAsync("carol@implicit.test", before + 1, TimeSpan.FromSeconds(10)), f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Several_messages_for_one_destination_share_one_connection()
    {
        var connectsBefore = CountConnects();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await EnqueueAsync("alice@example.test", ["bob@remote.test"], Message("alice@example.test", "bob@remote.test", "batch " + i)));
        }
        StartAgent();
        foreach (var id in ids)
        {
            await WaitUntilGoneAsync(id, TimeSpan.FromSeconds(20));
        }
        Assert.Equal(1, CountConnects() - connectsBefore);
    }

    private int CountConnects() => world.Mx.Log.Split('\n').Count(l => l.Contains("postfix-remote-mx/smtpd", StringComparison.Ordinal) && l.Contains(": connect from ", StringComparison.Ordinal));
}
