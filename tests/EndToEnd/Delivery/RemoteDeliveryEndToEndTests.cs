using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Cryptography;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Delivery;

/// <summary>
/// Mail a user submits (MailKit, 587, STARTTLS, AUTH) for another domain leaves the real `portcullis
/// serve` for that domain's MX (a real Postfix found through a real DNS server): DKIM-signed, bounced
/// back to the sender's Maildir on a 5xx, and never lost when the server is killed mid-delivery.
/// </summary>
[Collection(DeliveryWorldCollection.Name)]
public sealed partial class RemoteDeliveryEndToEndTests(DeliveryWorld world) : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(world.DeliveryToml());
        // `portcullis dkim generate` prints the record to publish; publish it in the test DNS as an administrator would.
        var output = await _server.CliAsync("dkim", "generate", "example.test");
        var line = output.Split('\n').Single(l => l.Contains("._domainkey.example.test. IN TXT", StringComparison.Ordinal));
        var name = line[..line.IndexOf(". IN TXT", StringComparison.Ordinal)];
        var value = string.Concat(QuotedString().Matches(line).Select(m => m.Groups[1].Value));
        world.Dns.SetTxt(name, value);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedString();

    [Fact]
    public async Task Submitted_mail_for_another_domain_reaches_its_mx_with_a_dkim_signature_that_verifies()
    {
        var subject = "to the world " + Guid.NewGuid();
        var before = world.Mx.Messages("bob@remote.test").Length;
        await DeliveryWorld.SubmitAsync(_server, [DeliveryWorld.Message("bob@remote.test", subject, "Hi Bob.\n.a line with a leading dot\n")]);

        var files = await world.Mx.WaitForMessagesAsync("bob@remote.test", before + 1, TimeSpan.FromSeconds(20));
        var file = files.SingleOrDefault(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        Assert.True(file is not null, "not delivered to the remote MX; server log:\n" + _server.ServerLog);
        var received = MimeMessage.Load(file);
        Assert.Contains(".a line with a leading dot", received.TextBody, StringComparison.Ordinal);
        var index = received.Headers.IndexOf(HeaderId.DkimSignature);
        Assert.True(index >= 0, "no DKIM-Signature at the receiving side");
        var signature = received.Headers[index];
        Assert.Contains("d=example.test", signature.Value, StringComparison.Ordinal);
        Assert.Contains("c=relaxed/relaxed", signature.Value, StringComparison.Ordinal);
        Assert.True(await new DkimVerifier(new DnsDkimKeyLocator(world.Dns.Endpoint)).VerifyAsync(received, signature), "DKIM signature did not verify");
        Assert.Contains("with ESMTPS", received.Headers[HeaderId.Received], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_5xx_from_the_remote_mx_puts_a_dsn_in_the_senders_maildir()
    {
        var subject = "to nobody " + Guid.NewGuid();
        var before = _server.Messages("alice").Length;
        await DeliveryWorld.SubmitAsync(_server, [DeliveryWorld.Message("nobody@remote.test", subject)]);

        var files = await _server.WaitForMessagesAsync("alice", before + 1, TimeSpan.FromSeconds(20));
        var bounceFile = files.SingleOrDefault(f => File.ReadAllText(f).Contains(subject, StringComparison.Ordinal));
        Assert.True(bounceFile is not null, "no bounce in alice's Maildir; server log:\n" + _server.ServerLog);
        var text = File.ReadAllText(bounceFile);
        Assert.StartsWith("Return-Path: <>\n", text, StringComparison.Ordinal);
        var dsn = MimeMessage.Load(bounceFile);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = report.OfType<MessageDeliveryStatus>().Single().StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal("rfc822; nobody@remote.test", status[1]["Final-Recipient"]);
        Assert.Equal("failed", status[1]["Action"]);
        Assert.Equal("5.1.1", status[1]["Status"]);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);
    }

    [Fact]
    public async Task Killing_the_server_during_delivery_loses_nothing()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var subjects = Enumerable.Range(0, 40).Select(i => $"crash {tag} {i}").ToList();
        await DeliveryWorld.SubmitAsync(_server, subjects.Select(s => DeliveryWorld.Message("carol@remote.test", s)));
        // Kill at once: some messages are out, some in flight, some not yet claimed.
        await _server.CrashAndRestartAsync();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HashSet<string> arrived = [];
        while (DateTime.UtcNow < deadline && arrived.Count < subjects.Count)
        {
            arrived = world.Mx.Messages("carol@remote.test").Select(f => MimeMessage.Load(f).Subject ?? "").Where(s => s.StartsWith("crash " + tag, StringComparison.Ordinal)).ToHashSet();
            await Task.Delay(200);
        }
        Assert.True(subjects.All(arrived.Contains), $"{subjects.Count - arrived.Count} of {subjects.Count} messages never arrived; server log:\n{_server.ServerLog}");
    }
}
