using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// Once a port has answered one protocol at once, a protocol it does not speak gets a short wait (four times
/// its fastest answer, at least a second), not the full reply timeout; a port that speaks two protocols is
/// still found open through the second.
/// </summary>
public class ProxyAdaptiveWaitTests
{
    private static readonly ProbeTimeouts SlowReplies = QuickTimeouts.With(reply: 5);

    [Fact]
    public async Task A_port_that_refused_http_at_once_gets_a_second_not_the_full_timeout_for_socks()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.95"), 0));
        await using var http = new LoopbackServer("127.0.6.96", Http403);
        var report = await AuditAsync(canary, "127.0.6.95", http, [ProxyProtocol.HttpConnect, ProxyProtocol.Socks4, ProxyProtocol.HttpsConnect]);
        Assert.Equal(Verdict.Closed, report.Verdict);
        var socks4 = Assert.Single(report.Checks, c => c.Id == "proxy.socks4");
        Assert.Contains("(nothing more within 1 s)", socks4.Evidence);
        Assert.DoesNotContain("within 5 s", socks4.Evidence);
        // The TLS handshake is the port's reply to our ClientHello: the same short wait.
        Assert.Contains("TLS handshake: no answer within 1 s", Assert.Single(report.Checks, c => c.Id == "proxy.https-connect").Evidence);
    }

    [Fact]
    public async Task A_trap_that_granted_at_once_gets_a_second_for_socks_though_its_grant_waited_for_proof()
    {
        // The grant came in milliseconds; the probe then waited out its proof. The grant's own time counts.
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.99"), 0));
        await using var trap = new LoopbackServer("127.0.6.100", LoopbackServer.Grants200ButNeverConnects);
        var report = await AuditAsync(canary, "127.0.6.99", trap, [ProxyProtocol.HttpConnect, ProxyProtocol.Socks4]);
        Assert.Equal(Verdict.Closed, report.Verdict);
        Assert.Contains("(nothing more within 1 s)", Assert.Single(report.Checks, c => c.Id == "proxy.socks4").Evidence);
    }

    [Fact]
    public async Task A_port_that_speaks_http_and_socks5_is_open_through_socks5_after_a_fast_http_refusal()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.97"), 0));
        await using var both = new LoopbackServer("127.0.6.98", async (s, ct) =>
        {
            var first = new byte[1];
            if (await s.ReceiveAsync(first, SocketFlags.Peek, ct) == 0)
            {
                return;
            }
            await (first[0] == 5 ? LoopbackServer.OpenSocks5(s, ct) : Http403(s, ct));
        });
        var report = await AuditAsync(canary, "127.0.6.97", both, [ProxyProtocol.HttpConnect, ProxyProtocol.Socks4, ProxyProtocol.Socks5]);
        Assert.Equal(Verdict.Open, report.Verdict);
        Assert.Equal(CheckStatus.Fail, Assert.Single(report.Checks, c => c.Id == "proxy.socks5").Status);
    }

    private static async Task<AuditReport> AuditAsync(ProxyCanary canary, string canaryAddress, LoopbackServer server, IReadOnlyList<ProxyProtocol> protocols)
    {
        var d = new CanaryDestination(canary, canaryAddress, canary.LocalEndPoint.Port);
        return await ProxyAuditor.AuditAsync("adaptive", server.EndPoint.Address, [server.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = protocols, Timeouts = SlowReplies }, CancellationToken.None);
    }

    /// <summary>An HTTP server that is no proxy: it waits for a whole request head (binary never ends one), then 403.</summary>
    private static async Task Http403(Socket s, CancellationToken ct)
    {
        var head = new StringBuilder();
        var buf = new byte[1024];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await s.ReceiveAsync(buf, SocketFlags.None, ct);
            if (n == 0)
            {
                return;
            }
            head.Append(Encoding.Latin1.GetString(buf, 0, n));
        }
        await s.SendAsync("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
    }
}
