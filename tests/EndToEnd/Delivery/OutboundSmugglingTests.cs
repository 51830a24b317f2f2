using System.Text;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Delivery;

/// <summary>
/// Outbound SMTP smuggling (catalog §2.4, sender side): a user submits each catalog §2.2 end-of-data
/// sequence inside a message body; what reaches the remote MX has no bare CR and no bare LF, so no next
/// hop can read a second message out of it. The bytes are checked as they arrive at the MX.
/// </summary>
[Collection(DeliveryWorldCollection.Name)]
public sealed class OutboundSmugglingTests(DeliveryWorld world) : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(world.DeliveryToml());

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // Catalog §2.2 sequences that a submission server accepts (stray CR/LF are replaced); the ones with a NUL are refused outright.
    private static readonly (string Name, string Bytes)[] Sequences =
    [
        ("lflf", "\n.\n"), ("lfcr", "\n.\r"), ("crlf", "\r.\n"), ("crcr", "\r.\r"), ("lfcrlf", "\n.\r\n"),
        ("crcrlf", "\r.\r\n"), ("crlflf", "\r\n.\n"), ("crlfcr", "\r\n.\r"), ("postfix-quirk", "\r\n.\r\r\n"),
    ];

    [Fact]
    public async Task Every_end_of_data_sequence_reaches_the_remote_mx_without_a_bare_cr_or_lf()
    {
        await using var c = await SmtpWire.ConnectAsync(_server.Host, _server.SubmissionPort);
        Assert.Equal(250, (await c.CommandAsync("EHLO client.example.test")).Code);
        Assert.Equal(220, (await c.CommandAsync("STARTTLS")).Code);
        await c.StartTlsHandshakeAsync(_server.Host);
        Assert.Equal(250, (await c.CommandAsync("EHLO client.example.test")).Code);
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice@example.test\0alice-password"));
        Assert.Equal(235, (await c.CommandAsync("AUTH PLAIN " + plain)).Code);
        var tag = Guid.NewGuid().ToString("N")[..8];
        foreach (var (name, bytes) in Sequences)
        {
            var content = $"From: <alice@example.test>\r\nTo: <x@capture.test>\r\nSubject: smuggle {tag} {name}\r\n\r\n"
                + $"before{bytes}MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@capture.test>\r\nDATA\r\nsmuggled\r\n";
            var reply = await c.SendMessageAsync("alice@example.test", ["x@capture.test"], content);
            Assert.True(reply.Code == 250, $"{name}: {reply}");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        List<string> arrived = [];
        while (DateTime.UtcNow < deadline)
        {
            arrived = world.Capture.Messages.Select(m => Encoding.Latin1.GetString(m)).Where(m => m.Contains("smuggle " + tag, StringComparison.Ordinal)).ToList();
            if (arrived.Count == Sequences.Length)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.True(arrived.Count == Sequences.Length, $"{arrived.Count} of {Sequences.Length} arrived; server log:\n{_server.ServerLog}");
        foreach (var m in arrived)
        {
            var name = m[(m.IndexOf("smuggle " + tag, StringComparison.Ordinal) + 17)..].Split('\r')[0];
            for (var i = 0; i < m.Length; i++)
            {
                Assert.False(m[i] == '\n' && (i == 0 || m[i - 1] != '\r'), $"{name}: bare LF at {i}");
                Assert.False(m[i] == '\r' && (i + 1 == m.Length || m[i + 1] != '\n'), $"{name}: bare CR at {i}");
            }
            // The smuggled commands stayed body text of the one message.
            Assert.Contains("MAIL FROM:<evil@attacker.test>", m, StringComparison.Ordinal);
        }
    }
}
