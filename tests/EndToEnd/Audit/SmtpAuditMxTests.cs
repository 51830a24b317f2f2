using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>A mail domain as target: its MX hosts are found through --dns-server (dnsmasq on loopback) and audited.</summary>
public sealed class SmtpAuditMxTests
{
    [Fact]
    public async Task A_domain_target_audits_its_mx_host_found_through_the_dns_server_option()
    {
        await using var mx = SmtpFakeServer.AcceptAllAndDrop(new IPEndPoint(IPAddress.Parse("127.0.2.40"), 25));
        var psi = new ProcessStartInfo("dnsmasq") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "--keep-in-foreground", "--port=5355", "--listen-address=127.0.2.55", "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root", "--pid-file=",
                     "--local=/mxtest.test/", "--mx-host=mxtest.test,mx1.mxtest.test,10", "--host-record=mx1.mxtest.test,127.0.2.40" })
        {
            psi.ArgumentList.Add(a);
        }
        using var dns = Process.Start(psi)!;
        try
        {
            await Task.Delay(500);
            var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "smtp", "mxtest.test", "--dns-server", "127.0.2.55:5355", "--json"], timeout: TimeSpan.FromSeconds(120));
            var r = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal("mx1.mxtest.test:25", r.GetProperty("target").GetString());
            Assert.Equal("127.0.2.40", r.GetProperty("address").GetString());
            // The mail domain (not the MX host's name) is the one probed for postmaster@.
            Assert.Contains(r.GetProperty("checks").EnumerateArray(), c => c.GetProperty("title").GetString() == "postmaster@mxtest.test must be accepted");
            Assert.Contains("MX hosts mx1.mxtest.test", stderr);
            Assert.True(exit is 1 or 3, stderr);
        }
        finally
        {
            dns.Kill();
            await dns.WaitForExitAsync();
        }
    }
}
