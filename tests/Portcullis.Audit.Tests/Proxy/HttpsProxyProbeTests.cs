using System.Net;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>HTTPS proxies (libopm's HTTPS and HTTPSPOST, catalog §5.2): CONNECT or POST inside TLS to the proxy port, on 127.0.6.6-127.0.6.9.</summary>
public class HttpsProxyProbeTests
{
    // The connect step includes the TLS handshake: generous, since a loaded CI machine can be slow at it.
    private static readonly ProbeTimeouts Quick = QuickTimeouts.With(connect: 5);

    // Where the proof does come, a longer wait for it costs nothing: the canary's greeting ends the wait. Under a
    // loaded test run (every test project starting at once on two cores) its trip through the test's TLS relay
    // once took more than Quick's one second.
    private static readonly ProbeTimeouts ProofComes = QuickTimeouts.With(connect: 5, proof: 10);

    [Fact]
    public async Task An_https_proxy_that_relays_connect_inside_tls_is_proven_open_through_the_canary()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.6"), 0));
        await using var proxy = new LoopbackServer("127.0.6.7", TlsLoopback.OpenHttpsConnect);
        var d = new CanaryDestination(canary, "127.0.6.6", canary.LocalEndPoint.Port);
        var outcome = await ProxyProbe.RunAsync(proxy.EndPoint, ProxyProtocol.HttpsConnect, d, ProofComes, CancellationToken.None);
        Assert.True(outcome.Result == ProbeResult.Proven, outcome.Evidence);
        Assert.Contains("TLS ", outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains("CN=portcullis-test-proxy", outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains($"C: CONNECT 127.0.6.6:{canary.LocalEndPoint.Port} HTTP/1.0", outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains("220 portcullis-canary PCX", outcome.Evidence, StringComparison.Ordinal);
        Assert.Equal(1, canary.Connections);

        // The same port spoken to in plain text is not an HTTP proxy: the plain CONNECT proves nothing.
        var plain = await ProxyProbe.RunAsync(proxy.EndPoint, ProxyProtocol.HttpConnect, d, Quick, CancellationToken.None);
        Assert.NotEqual(ProbeResult.Proven, plain.Result);
    }

    [Fact]
    public async Task An_https_proxy_that_grants_but_never_connects_is_not_open()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.8"), 0));
        await using var trap = new LoopbackServer("127.0.6.9", TlsLoopback.Grants200ButNeverConnects);
        var d = new CanaryDestination(canary, "127.0.6.8", canary.LocalEndPoint.Port);
        var report = await ProxyAuditor.AuditAsync("tls-trap", trap.EndPoint.Address, [trap.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = [ProxyProtocol.HttpsConnect, ProxyProtocol.HttpsPost], Timeouts = Quick }, CancellationToken.None);
        Assert.Equal(Verdict.Closed, report.Verdict);
        var connect = Assert.Single(report.Checks, c => c.Id == "proxy.https-connect");
        Assert.Equal(CheckStatus.Pass, connect.Status);
        Assert.StartsWith("grants but did not connect", connect.Summary, StringComparison.Ordinal);
        Assert.Equal(0, canary.Connections);
    }

    [Fact]
    public async Task Https_types_on_a_plain_text_port_report_that_it_is_not_tls()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.8"), 0));
        // A plain HTTP proxy answers a TLS ClientHello with an error line, as Squid's http_port does (400).
        await using var plain = new LoopbackServer("127.0.6.9", async (s, ct) =>
        {
            if (await s.ReceiveAsync(new byte[4096], System.Net.Sockets.SocketFlags.None, ct) > 0)
            {
                await s.SendAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None, ct);
            }
        });
        var d = new CanaryDestination(canary, "127.0.6.8", canary.LocalEndPoint.Port);
        var outcome = await ProxyProbe.RunAsync(plain.EndPoint, ProxyProtocol.HttpsConnect, d, Quick, CancellationToken.None);
        Assert.Equal(ProbeResult.OtherProtocol, outcome.Result);
        Assert.Contains("not a TLS port", outcome.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_that_fails_one_tls_handshake_is_not_asked_for_another()
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.24"), 0));
        var counter = new ConnectionCounter();
        await using var plain = new LoopbackServer("127.0.6.25", counter.Wrap(async (s, ct) =>
        {
            if (await s.ReceiveAsync(new byte[4096], System.Net.Sockets.SocketFlags.None, ct) > 0)
            {
                await s.SendAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), System.Net.Sockets.SocketFlags.None, ct);
            }
        }));
        var d = new CanaryDestination(canary, "127.0.6.24", canary.LocalEndPoint.Port);
        var report = await ProxyAuditor.AuditAsync("plain", plain.EndPoint.Address, [plain.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = [ProxyProtocol.HttpsConnect, ProxyProtocol.HttpsPost], Timeouts = Quick }, CancellationToken.None);
        Assert.Equal(1, counter.Counted);
        var post = Assert.Single(report.Checks, c => c.Id == "proxy.https-post");
        Assert.Equal(CheckStatus.Skipped, post.Status);
        Assert.Contains("not tried", post.Summary, StringComparison.Ordinal);
        Assert.Contains("seen by https-connect", post.Summary, StringComparison.Ordinal);
    }
}
