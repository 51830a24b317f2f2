using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp;
using Portcullis.Audit.Smtp.Checks;
using Portcullis.Audit.Tests.Proxy;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>A server that hangs up in the middle of a check: the check is inconclusive and keeps what was said.</summary>
public sealed class LostConnectionTests
{
    /// <summary>Greets, answers EHLO, and closes the connection at the first MAIL.</summary>
    private static async Task HangUpAtMail(Socket s, CancellationToken ct)
    {
        await s.SendAsync("220 fake.example ESMTP\r\n"u8.ToArray(), ct);
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        while (true)
        {
            var n = await s.ReceiveAsync(buffer, ct);
            if (n == 0)
            {
                return;
            }
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
            var text = seen.ToString();
            if (text.Contains("MAIL FROM", StringComparison.OrdinalIgnoreCase))
            {
                return; // the handler's `using` closes the socket: a hang-up mid-transaction
            }
            if (text.EndsWith("\r\n", StringComparison.Ordinal))
            {
                seen.Clear();
                await s.SendAsync(text.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase) ? "250-fake.example\r\n250 PIPELINING\r\n"u8.ToArray() : "250 2.0.0 Ok\r\n"u8.ToArray(), ct);
            }
        }
    }

    [Fact]
    public async Task A_message_check_whose_server_hangs_up_at_MAIL_is_inconclusive_with_the_transcript()
    {
        await using var server = new LoopbackServer("127.0.3.120", HangUpAtMail);
        var opener = new SessionOpener(new SmtpEndpoint("fake.example", IPAddress.Parse("127.0.3.120"), server.EndPoint.Port, false),
            new ProbeOptions { ConnectTimeout = TimeSpan.FromSeconds(5), StepTimeout = TimeSpan.FromSeconds(5) }, "auditor.test", _ => Task.CompletedTask);

        var finding = await HeaderNulCheck.RunAsync(opener, tls: false, "alice@example.test", CancellationToken.None);

        Assert.Equal(CheckStatus.Inconclusive, finding.Status);
        Assert.Equal(HeaderNulCheck.Id, finding.Id);
        Assert.StartsWith("could not complete: ", finding.Summary, StringComparison.Ordinal);
        Assert.Contains("220 fake.example ESMTP", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("MAIL FROM:<audit@example.test>", finding.Evidence, StringComparison.Ordinal);
        Assert.Null(finding.Topic);
    }
}
