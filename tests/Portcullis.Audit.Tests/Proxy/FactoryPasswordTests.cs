using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// HOPM's ROUTER and DREAMBOX types (catalog §5.2), which type factory passwords and so run only when asked:
/// against emulations of a Cisco router's and a Dreambox's telnet (127.0.6.18-127.0.6.21) that really
/// relay "telnet host port" to the canary (127.0.6.17).
/// </summary>
public class FactoryPasswordTests
{
    // The open devices' proof ends the wait when it comes; the refusing ones never reach it. A generous wait
    // costs nothing and keeps a loaded test run from missing a proof (HttpsProxyProbeTests once did at 1 s).
    private static readonly ProbeTimeouts Quick = QuickTimeouts.With(proof: 5);

    /// <summary>A telnet service: a banner, then prompts answered line by line; "telnet A P" at the final prompt relays to A:P (loopback only).</summary>
    private static Func<Socket, CancellationToken, Task> Telnet(string banner, (string Expect, string Next)[] logins, string failure) => async (s, ct) =>
    {
        await using var stream = new NetworkStream(s, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        async Task Say(string text) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), ct);
        await Say(banner);
        foreach (var (expect, next) in logins)
        {
            var typed = await reader.ReadLineAsync(ct);
            if (typed != expect)
            {
                await Say(failure);
                return;
            }
            await Say(next);
        }
        var prompt = logins[^1].Next.TrimStart('\r', '\n');
        while (await reader.ReadLineAsync(ct) is { } command)
        {
            var words = command.Split(' ');
            if (words is ["telnet", var host, var port] && host.StartsWith("127.", StringComparison.Ordinal))
            {
                await Say($"Trying {host}, {port} ... Open\r\n");
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(host, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), ct);
                var up = upstream.GetStream();
                await Task.WhenAny(up.CopyToAsync(stream, ct), stream.CopyToAsync(up, ct));
                return;
            }
            await Say($"% Unknown command\r\n{prompt}");
        }
    };

    private static Func<Socket, CancellationToken, Task> Cisco(string password) =>
        Telnet("\r\n\r\nUser Access Verification\r\n\r\nPassword: ", [(password, "\r\nRouter>")], "\r\n% Bad passwords\r\n");

    private static Func<Socket, CancellationToken, Task> Dreambox(string password) =>
        Telnet("dreambox login: ", [("root", "Password: "), (password, "\r\nroot@dreambox:~# ")], "\r\nLogin incorrect\r\n");

    private static async Task<AuditReport> AuditAsync(string address, Func<Socket, CancellationToken, Task> device, ProxyProtocol protocol)
    {
        await using var canary = ProxyCanary.Start(new IPEndPoint(IPAddress.Parse("127.0.6.17"), 0));
        await using var server = new LoopbackServer(address, device);
        var d = new CanaryDestination(canary, "127.0.6.17", canary.LocalEndPoint.Port);
        return await ProxyAuditor.AuditAsync(address, server.EndPoint.Address, [server.EndPoint.Port], [d],
            new ProxyAuditOptions { Protocols = [protocol], Timeouts = Quick }, CancellationToken.None);
    }

    [Fact]
    public async Task Cisco_router_with_the_factory_password_is_proven_open_through_the_canary()
    {
        var report = await AuditAsync("127.0.6.18", Cisco("cisco"), ProxyProtocol.CiscoRouter);
        Assert.Equal(Verdict.Open, report.Verdict);
        var check = Assert.Single(report.Checks);
        Assert.Equal("proxy.cisco-router", check.Id);
        Assert.Contains("C: cisco", check.Evidence, StringComparison.Ordinal);
        Assert.Contains("C: telnet 127.0.6.17 ", check.Evidence, StringComparison.Ordinal);
        Assert.Contains("canary token", check.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cisco_router_with_its_own_password_refuses_and_is_closed()
    {
        var report = await AuditAsync("127.0.6.19", Cisco("s3cret-vty"), ProxyProtocol.CiscoRouter);
        Assert.Equal(Verdict.Closed, report.Verdict);
        var check = Assert.Single(report.Checks);
        Assert.Equal(CheckStatus.Pass, check.Status);
        Assert.Contains("factory password \"cisco\" was refused", check.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dreambox_with_the_factory_login_is_proven_open_and_one_with_a_root_password_is_closed()
    {
        var open = await AuditAsync("127.0.6.20", Dreambox("dreambox"), ProxyProtocol.Dreambox);
        Assert.Equal(Verdict.Open, open.Verdict);
        Assert.Contains("C: root", open.Checks[0].Evidence, StringComparison.Ordinal);
        Assert.Contains("C: dreambox", open.Checks[0].Evidence, StringComparison.Ordinal);

        var closed = await AuditAsync("127.0.6.21", Dreambox("changed"), ProxyProtocol.Dreambox);
        Assert.Equal(Verdict.Closed, closed.Verdict);
        Assert.Contains("root/dreambox was refused", closed.Checks[0].Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_password_types_are_not_in_the_default_set()
    {
        Assert.DoesNotContain(ProxyProtocol.CiscoRouter, ProxyProtocols.Default);
        Assert.DoesNotContain(ProxyProtocol.Dreambox, ProxyProtocols.Default);
        Assert.Equal(ProxyProtocols.Default, new ProxyAuditOptions().Protocols);
        Assert.Equal(ProxyProtocols.All.Count - 2, ProxyProtocols.Default.Count);
    }
}
