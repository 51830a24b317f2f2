using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>`portcullis audit proxy` against the real shared proxies (Squid, Dante, tinyproxy, microsocks...).</summary>
[Collection("proxy-peers")]
public class ProxyAuditPeersTests(ProxyPeersFixture peers)
{
    /// <summary>
    /// One run over every peer, with our canary on 127.0.3.1:25 (port 25, because some peers only tunnel to 25)
    /// and the peers' canary SMTP as --through-to. Verdicts must match the peers' table, and every open verdict
    /// must be proven by our canary's token coming back through the proxy.
    /// </summary>
    [Fact]
    public async Task Every_proxy_peer_gets_its_expected_verdict_and_open_ones_are_proven_through_the_canary()
    {
        var targets = peers.Peers.Select(p => p.HostPort).ToList();
        Assert.NotEmpty(targets);
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "proxy", .. targets, "--canary-listen", "127.0.3.1:25", "--through-to", peers.CanarySmtp, "--timeout", "3", "--json",
             "--host-connections", "4"], // speed: the politeness default (1) is covered by ProxyPolitenessTests
            timeout: TimeSpan.FromMinutes(3));
        using var doc = JsonDocument.Parse(stdout);
        var reports = doc.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("target").GetString()!);
        var wrong = new List<string>();
        foreach (var peer in peers.Peers)
        {
            var r = reports[peer.HostPort];
            var verdict = r.GetProperty("verdict").GetString();
            var expected = peer.ExpectedOpen ? "open" : "closed";
            if (verdict != expected)
            {
                wrong.Add($"{peer.Name} ({peer.Software}, expected \"{peer.Expected}\"): {verdict} - {r.GetProperty("verdictReason").GetString()}");
                continue;
            }
            if (peer.ExpectedOpen)
            {
                var proofs = r.GetProperty("checks").EnumerateArray()
                    .Where(c => c.GetProperty("status").GetString() == "fail")
                    .Select(c => c.GetProperty("summary").GetString()!)
                    .ToList();
                if (!proofs.Any(s => s.Contains("canary token PCX", StringComparison.Ordinal) && s.Contains("came back through the proxy", StringComparison.Ordinal)))
                {
                    wrong.Add($"{peer.Name}: open but not proven by the canary token: {string.Join(" / ", proofs)}");
                }
            }
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong) + "\nstderr:\n" + stderr);
        Assert.Equal(1, code); // open proxies found
    }

    [Fact]
    public async Task The_catch_all_200_emulation_is_closed_with_grants_but_did_not_connect()
    {
        var fake = peers.Peer("fake200-emu");
        var (code, stdout, _) = await PortcullisProcess.RunAsync(
            ["audit", "proxy", fake.HostPort, "--canary-listen", "127.0.3.1:0", "--through-to", peers.CanarySmtp, "--timeout", "2", "--json", "--host-connections", "4"]);
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal("closed", r.GetProperty("verdict").GetString());
        Assert.Equal("proxy", r.GetProperty("audit").GetString());
        var connect = r.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "proxy.http-connect");
        Assert.Equal("pass", connect.GetProperty("status").GetString());
        Assert.Contains("grants but did not connect", connect.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Socks5_authentication_demands_are_reported_and_the_proxy_is_closed()
    {
        foreach (var name in new[] { "dante-auth", "microsocks-auth" })
        {
            var peer = peers.Peer(name);
            var (code, stdout, _) = await PortcullisProcess.RunAsync(
                ["audit", "proxy", peer.HostPort, "--protocols", "socks5", "--canary-listen", "127.0.3.1:0", "--timeout", "2", "--json"]);
            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal("closed", doc.RootElement.GetProperty("verdict").GetString());
            var socks5 = doc.RootElement.GetProperty("checks").EnumerateArray().Single();
            Assert.Contains("SOCKS5 demands authentication: 05 ", socks5.GetProperty("summary").GetString(), StringComparison.Ordinal);
            Assert.Contains("C: [050100]", socks5.GetProperty("evidence").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, code);
        }
    }
}
