using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>Probes over real loopback sockets (127.0.3.2-127.0.3.9), against a real relaying SOCKS5 proxy and a 200-trap.</summary>
public class ProxyProbeTests
{
    private static readonly ProbeTimeouts Quick = QuickTimeouts.With(proof: 2);

    [Fact]
    public async Task Canary_greets_a_tunnel_with_a_fresh_token_and_answers_a_relayed_http_request_with_200()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.3.2"), 0));
        using (var smtp = new TcpClient())
        {
            await smtp.ConnectAsync(canary.LocalEndPoint);
            var banner = await ReadAsync(smtp.GetStream(), "\n");
            Assert.StartsWith("220 portcullis-canary PCX", banner, StringComparison.Ordinal);
            var token = ProxyCanary.TokenPattern().Match(banner).Value;
            Assert.True(canary.TryClaim(token, out var hit));
            Assert.Equal("smtp", hit.Kind);
            Assert.False(canary.TryClaim(token, out _)); // a token proves one probe, once
        }
        using (var http = new TcpClient())
        {
            await http.ConnectAsync(canary.LocalEndPoint);
            await http.GetStream().WriteAsync("GET /portcullis-proxy-test HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var reply = await ReadAsync(http.GetStream(), null);
            Assert.StartsWith("HTTP/1.0 200 OK\r\n", reply, StringComparison.Ordinal);
            Assert.NotNull(canary.ClaimFirstIn(reply));
        }
        Assert.False(canary.TryClaim("PCX00000000000000000000", out _));
    }

    [Fact]
    public async Task A_real_socks5_proxy_is_proven_open_through_the_canary()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.3.3"), 0));
        await using var proxy = new LoopbackServer("127.0.3.4", LoopbackServer.OpenSocks5);
        var d = new CanaryDestination(canary, "127.0.3.3", canary.LocalEndPoint.Port);
        var outcome = await ProxyProbe.RunAsync(proxy.EndPoint, ProxyProtocol.Socks5, d, Quick, CancellationToken.None);
        Assert.Equal(ProbeResult.Proven, outcome.Result);
        Assert.Contains("C: [050100]", outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains("S: [0500]", outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains("220 portcullis-canary PCX", outcome.Evidence, StringComparison.Ordinal);
        Assert.Equal(1, canary.Connections);
    }

    [Fact]
    public async Task A_proxy_that_answers_200_but_never_connects_is_not_open()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.3.5"), 0));
        await using var trap = new LoopbackServer("127.0.3.6", LoopbackServer.Grants200ButNeverConnects);
        var d = new CanaryDestination(canary, "127.0.3.5", canary.LocalEndPoint.Port);
        var report = await ProxyAuditor.AuditAsync("trap", trap.EndPoint.Address, [trap.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = [ProxyProtocol.HttpConnect, ProxyProtocol.Socks5], Timeouts = Quick }, CancellationToken.None);
        Assert.Equal(Verdict.Closed, report.Verdict);
        var connect = Assert.Single(report.Checks, c => c.Id == "proxy.http-connect");
        Assert.Equal(CheckStatus.Pass, connect.Status);
        Assert.StartsWith("grants but did not connect", connect.Summary, StringComparison.Ordinal);
        Assert.Contains("S: HTTP/1.0 200 Connection established", connect.Evidence, StringComparison.Ordinal);
        Assert.Equal(0, canary.Connections);
    }

    [Theory]
    [InlineData(ProxyProtocol.Wingate)]
    [InlineData(ProxyProtocol.TelnetGateway)]
    public async Task A_gateway_probe_answered_in_http_is_not_a_gateway_without_waiting_for_a_proof(ProxyProtocol protocol)
    {
        // Reply + Proof is 40 s: the HTTP status line settles it long before.
        var patient = new ProbeTimeouts { Connect = TimeSpan.FromSeconds(5), Prompt = TimeSpan.FromMilliseconds(300), Reply = TimeSpan.FromSeconds(20), Proof = TimeSpan.FromSeconds(20) };

        var (outcome, took, _) = await ProbeTrapAsync(LoopbackServer.Answers200ToAnything, protocol, patient);

        Assert.Equal(ProbeResult.OtherProtocol, outcome.Result);
        Assert.StartsWith("not a gateway: \"HTTP/1.0 200 Connection established\"", outcome.Summary, StringComparison.Ordinal);
        Assert.True(took < TimeSpan.FromSeconds(15), $"took {took}");
    }

    [Theory]
    [InlineData(ProxyProtocol.HttpGet)]
    [InlineData(ProxyProtocol.HttpPost)]
    public async Task A_200_to_get_or_post_without_the_canary_page_is_judged_after_the_proof_time_not_reply_plus_proof(ProxyProtocol protocol)
    {
        // The head comes at once; then only Proof (1 s) is waited for the page, not the 30 s of Reply.
        var timeouts = new ProbeTimeouts { Connect = TimeSpan.FromSeconds(5), Reply = TimeSpan.FromSeconds(30), Proof = TimeSpan.FromSeconds(1) };

        var (outcome, took, canaryConnections) = await ProbeTrapAsync(LoopbackServer.Grants200ButNeverConnects, protocol, timeouts);

        Assert.Equal(ProbeResult.GrantedNoConnect, outcome.Result);
        Assert.True(took < TimeSpan.FromSeconds(15), $"took {took}");
        Assert.Equal(0, canaryConnections);
    }

    /// <summary>One probe of a fake proxy on 127.0.3.111 towards a canary on 127.0.3.110: how it ended, how long it took, how often the canary was reached.</summary>
    private static async Task<(ProbeOutcome Outcome, TimeSpan Took, int CanaryConnections)> ProbeTrapAsync(Func<Socket, CancellationToken, Task> fake, ProxyProtocol protocol, ProbeTimeouts timeouts)
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.3.110"), 0));
        await using var trap = new LoopbackServer("127.0.3.111", fake);
        var d = new CanaryDestination(canary, "127.0.3.110", canary.LocalEndPoint.Port);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcome = await ProxyProbe.RunAsync(trap.EndPoint, protocol, d, timeouts, CancellationToken.None);
        return (outcome, clock.Elapsed, canary.Connections);
    }

    [Fact]
    public async Task Closed_port_is_not_tested_and_the_target_is_inconclusive()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.3.7"), 0));
        var d = new CanaryDestination(canary, "127.0.3.7", canary.LocalEndPoint.Port);
        var report = await ProxyAuditor.AuditAsync("nothing", IPAddress.Parse("127.0.3.8"), [1080], [d], new ProxyAuditOptions { Timeouts = Quick }, CancellationToken.None);
        Assert.Equal(Verdict.Inconclusive, report.Verdict);
        var c = Assert.Single(report.Checks);
        Assert.Equal(CheckStatus.Skipped, c.Status);
        Assert.Contains("connection refused", c.Summary, StringComparison.Ordinal);
    }

    private static async Task<string> ReadAsync(NetworkStream s, string? until)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var buf = new byte[4096];
        var sb = new StringBuilder();
        int n;
        while ((n = await s.ReadAsync(buf, cts.Token)) > 0)
        {
            sb.Append(Encoding.ASCII.GetString(buf, 0, n));
            if (until is not null && sb.ToString().Contains(until, StringComparison.Ordinal))
            {
                break;
            }
        }
        return sb.ToString();
    }
}
