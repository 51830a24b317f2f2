using System.Net;
using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>Catalog §4 "Reverse DNS": PTR and forward confirmation through --dns-server, against the real peers.</summary>
public sealed class SmtpAuditReverseDnsTests
{
    private static JsonElement Check(JsonElement report, string id) =>
        report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    [Fact]
    public async Task Reverse_dns_passes_when_confirmed_and_fails_when_missing_or_not_forward_confirmed()
    {
        await RelayPeers.EnsureUpAsync();
        using var dns = new DnsTestServer(new IPEndPoint(IPAddress.Parse("127.0.1.144"), 10053));
        // Postfix closed (.21): PTR = its greeting name, which resolves back to it.
        dns.AddPtr("127.0.0.21", "relay-closed.peer.test");
        dns.AddA("relay-closed.peer.test", "127.0.0.21");
        // Postfix tricky gateway (.22): no PTR at all.
        // Exim (.24): a PTR whose name points elsewhere.
        dns.AddPtr("127.0.0.24", "mx.exim.test");
        dns.AddA("mx.exim.test", "127.0.0.99");

        var (_, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "smtp", "--json", "--dns-server", dns.Setting, RelayPeers.Closed, RelayPeers.TrickyGateway, "127.0.0.24"],
            timeout: TimeSpan.FromSeconds(90));
        var reports = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        Assert.True(reports.Count == 3, stderr);

        var confirmed = Check(reports[0], "dns.reverse");
        Assert.True(confirmed.GetProperty("status").GetString() == "pass", confirmed.ToString());
        Assert.Contains("PTR relay-closed.peer.test resolves back to 127.0.0.21 and matches the greeting", confirmed.GetProperty("summary").GetString());

        var missing = Check(reports[1], "dns.reverse");
        Assert.Equal("fail", missing.GetProperty("status").GetString());
        Assert.Equal("low", missing.GetProperty("severity").GetString());
        Assert.Contains("no PTR record for 127.0.0.22 (22.0.0.127.in-addr.arpa)", missing.GetProperty("summary").GetString());
        Assert.Contains("myhostname", missing.GetProperty("fix").GetString()); // the Postfix fix

        var unconfirmed = Check(reports[2], "dns.reverse");
        Assert.Equal("fail", unconfirmed.GetProperty("status").GetString());
        Assert.Contains("not forward-confirmed: mx.exim.test -> 127.0.0.99", unconfirmed.GetProperty("summary").GetString());
        Assert.Contains("primary_hostname", unconfirmed.GetProperty("fix").GetString()); // the Exim fix

        // The same run: neither Postfix nor this Exim offers NTLM.
        Assert.All(reports, r => Assert.Equal("pass", Check(r, "auth.ntlm-info").GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Without_dns_server_a_loopback_target_skips_reverse_dns_and_without_rcpt_the_message_content_checks()
    {
        await RelayPeers.EnsureUpAsync();
        var (_, stdout, _) = await PortcullisProcess.RunAsync(["audit", "smtp", "--json", RelayPeers.Closed], timeout: TimeSpan.FromSeconds(60));
        var r = JsonDocument.Parse(stdout).RootElement;
        var check = Check(r, "dns.reverse");
        Assert.Equal("skipped", check.GetProperty("status").GetString());
        Assert.Contains("not a public address", check.GetProperty("summary").GetString());
        var eightBit = Check(r, "data.8bit-undeclared");
        Assert.Equal("skipped", eightBit.GetProperty("status").GetString());
        Assert.Contains("--rcpt", eightBit.GetProperty("summary").GetString());
        foreach (var id in new[] { "line.long-data", "data.nul" })
        {
            Assert.Equal("skipped", Check(r, id).GetProperty("status").GetString());
            Assert.StartsWith("needs a valid recipient: --rcpt", Check(r, id).GetProperty("summary").GetString());
        }
    }
}
