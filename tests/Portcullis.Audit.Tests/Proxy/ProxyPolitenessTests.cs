using System.Net;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// "Never more than one connection at a time to one host unless asked" (issues 4 and 5, catalog §6.2 step 5):
/// a host with three slow proxy ports (127.0.6.3) counts the auditor's connections.
/// </summary>
public class ProxyPolitenessTests
{
    private static readonly ProbeTimeouts Quick = QuickTimeouts.With();

    private static async Task<(ConnectionCounter Counter, AuditReport Report)> AuditSlowHostAsync(string host, string canaryAddress, int maxConnections)
    {
        var counter = new ConnectionCounter();
        var slow = counter.Wrap(ConnectionCounter.Slow403(TimeSpan.FromMilliseconds(60)));
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse(canaryAddress), 0));
        await using var a = new LoopbackServer(host, slow);
        await using var b = new LoopbackServer(host, slow);
        await using var c = new LoopbackServer(host, slow);
        var d = new CanaryDestination(canary, canaryAddress, canary.LocalEndPoint.Port);
        var report = await ProxyAuditor.AuditAsync(host, IPAddress.Parse(host), [a.EndPoint.Port, b.EndPoint.Port, c.EndPoint.Port], [d],
            new ProxyAuditOptions { Timeouts = Quick, MaxConnections = maxConnections }, CancellationToken.None);
        return (counter, report);
    }

    [Fact]
    public async Task Proxy_audit_of_a_host_opens_one_connection_at_a_time()
    {
        var (counter, report) = await AuditSlowHostAsync("127.0.6.3", "127.0.6.2", maxConnections: 1);
        Assert.Equal(Verdict.Closed, report.Verdict);
        // Every protocol on every port was tried, most on a connection of its own (a port that failed one TLS
        // handshake is not asked for a second)...
        Assert.Equal(3 * ProxyProtocols.Default.Count, report.Checks.Count);
        Assert.True(counter.Counted >= 3 * (ProxyProtocols.Default.Count - 3), $"only {counter.Counted} connections were counted");
        // ...and never two at once.
        Assert.Equal(1, counter.Max);
    }

    [Fact]
    public async Task Asked_for_four_connections_per_host_the_audit_uses_more_than_one()
    {
        // The counter can see overlap: with --host-connections 4 it must.
        var (counter, _) = await AuditSlowHostAsync("127.0.6.5", "127.0.6.4", maxConnections: 4);
        Assert.InRange(counter.Max, 2, 4);
    }
}
