using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>HOPM's "ssh" scanner (catalog §5.2): read the banner, send nothing, compare with the listed versions. On 127.0.6.14-127.0.6.16.</summary>
public class SshBannerTests
{
    private static readonly ProbeTimeouts Quick = QuickTimeouts.With(reply: 1, promptMs: 300);

    private static Func<Socket, CancellationToken, Task> Banner(string line) => async (s, ct) =>
    {
        await s.SendAsync(System.Text.Encoding.ASCII.GetBytes(line + "\r\n"), SocketFlags.None, ct);
        var buf = new byte[256];
        // An SSH server waits for the client's identification; the probe sends none and leaves.
        while (await s.ReceiveAsync(buf, SocketFlags.None, ct) > 0)
        {
        }
    };

    private static async Task<AuditReport> AuditAsync(string address, string banner)
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.14"), 0));
        await using var server = new LoopbackServer(address, Banner(banner));
        var d = new CanaryDestination(canary, "127.0.6.14", canary.LocalEndPoint.Port);
        return await ProxyAuditor.AuditAsync(address, server.EndPoint.Address, [server.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = [ProxyProtocol.SshBanner], Timeouts = Quick }, CancellationToken.None);
    }

    [Theory]
    [InlineData("SSH-2.0-ROSSSH")]
    [InlineData("SSH-2.0-dropbear_0.52")]
    public async Task A_listed_ssh_version_is_flagged_but_never_called_an_open_proxy(string banner)
    {
        var report = await AuditAsync("127.0.6.15", banner);
        var check = Assert.Single(report.Checks);
        Assert.Equal("proxy.ssh-banner", check.Id);
        Assert.Equal(CheckStatus.Inconclusive, check.Status);
        Assert.Equal(Severity.Medium, check.Severity);
        Assert.Contains(banner, check.Summary, StringComparison.Ordinal);
        Assert.Contains("not proven", check.Summary, StringComparison.Ordinal);
        Assert.NotNull(check.Fix);
        // Open needs traffic through the proxy; a banner is not that.
        Assert.Equal(Verdict.Closed, report.Verdict);
        Assert.DoesNotContain("C: ", check.Evidence, StringComparison.Ordinal); // nothing was sent
    }

    [Fact]
    public async Task An_unlisted_ssh_version_passes()
    {
        var report = await AuditAsync("127.0.6.16", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
        var check = Assert.Single(report.Checks);
        Assert.Equal(CheckStatus.Pass, check.Status);
        Assert.Contains("not on HOPM's list", check.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Listed_versions_must_match_exactly_ignoring_the_comment_field()
    {
        Assert.NotNull(SshBanners.Listed("SSH-2.0-ROSSSH"));
        Assert.NotNull(SshBanners.Listed("SSH-2.0-dropbear_0.52 some comment"));
        Assert.Null(SshBanners.Listed("SSH-2.0-dropbear_2022.83"));
        Assert.Null(SshBanners.Listed("SSH-2.0-ROSSSH2"));
    }
}
