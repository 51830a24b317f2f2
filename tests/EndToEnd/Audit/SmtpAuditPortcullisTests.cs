using System.Net;
using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>Issue 4: the auditor run against Portcullis's own server finds nothing to fix.</summary>
public sealed class SmtpAuditPortcullisTests
{
    [Fact]
    public async Task Portcullis_serve_passes_every_check_and_is_closed()
    {
        await using var server = await ServerInstance.StartAsync();
        var (r, checks, stderr) = await AuditWithNothingToFixAsync(server, "127.0.1.145",
            ["--rcpt", "alice@example.test", "--smuggling-wait", "1", "--canary-listen", "127.0.4.149:2599", "--canary-domain", "canary.test", "--canary-wait", "3"]);
        Assert.Equal("closed", r.GetProperty("verdict").GetString());
        Assert.Equal("Portcullis", r.GetProperty("software").GetString());
        // STARTTLS is offered, so the relay matrix also ran over TLS, and the injection probe ran.
        Assert.Contains("over STARTTLS", stderr);
        Assert.Equal("pass", checks.Single(c => c.GetProperty("id").GetString() == "tls.starttls-injection").GetProperty("status").GetString());
        Assert.All(checks.Where(c => c.GetProperty("id").GetString()!.StartsWith("smuggling.", StringComparison.Ordinal)),
            c => Assert.Equal("pass", c.GetProperty("status").GetString()));
        Assert.Equal(12, checks.Count(c => c.GetProperty("id").GetString()!.StartsWith("smuggling.", StringComparison.Ordinal)));
        foreach (var id in new[] { "pipelining.discipline", "path.limits", "auth.ntlm-info", "dns.reverse", "data.8bit-undeclared", "line.long-data", "data.nul", "dsn.success-reflection" })
        {
            Assert.Equal("pass", checks.Single(c => c.GetProperty("id").GetString() == id).GetProperty("status").GetString());
        }
        // Portcullis takes undeclared 8-bit data in body and header alike; its PTR matches its greeting.
        Assert.StartsWith("accepts undeclared 8-bit data consistently", checks.Single(c => c.GetProperty("id").GetString() == "data.8bit-undeclared").GetProperty("summary").GetString());
        // Catalog §4: Portcullis refuses a 1001-octet text line and a NUL in a header at the end of data.
        Assert.Equal("refused a 1001-octet text line: 550 5.6.0 Message has a line longer than 1000 octets (RFC 5321 §4.5.3.1.6)", checks.Single(c => c.GetProperty("id").GetString() == "line.long-data").GetProperty("summary").GetString());
        Assert.Equal("refused a NUL in the Subject: 550 5.6.0 Message contains a NUL character", checks.Single(c => c.GetProperty("id").GetString() == "data.nul").GetProperty("summary").GetString());
        Assert.Contains("matches the greeting and EHLO name", checks.Single(c => c.GetProperty("id").GetString() == "dns.reverse").GetProperty("summary").GetString());
        // The MX takes the message but not the request for a success notice: nothing reaches the canary.
        Assert.Contains("no notice reached the canary", checks.Single(c => c.GetProperty("id").GetString() == "dsn.success-reflection").GetProperty("summary").GetString());
    }

    [Fact]
    public async Task An_audit_by_address_alone_finds_postmaster_and_abuse_at_the_servers_host_name()
    {
        // No --rcpt and no --domain: the auditor probes postmaster@, abuse@ and the recipient limit at the
        // name in the greeting (mx.example.test), which is not a mail domain of the server but is its name.
        await using var server = await ServerInstance.StartAsync();
        var (_, checks, stderr) = await AuditWithNothingToFixAsync(server, "127.0.1.146");
        Assert.Contains("(domain mx.example.test)", stderr);
        foreach (var id in new[] { "rcpt.postmaster", "rcpt.abuse", "rcpt.limit", "rcpt.backscatter" })
        {
            Assert.Equal("pass", checks.Single(c => c.GetProperty("id").GetString() == id).GetProperty("status").GetString());
        }
        // The server's log names the rule that refused the auditor's made-up users at its host name.
        Assert.True(await server.WaitForLogAsync("rule=unknown-user-at-hostname"), server.ServerLog);
    }

    [Fact]
    public async Task The_submission_ports_need_nothing_fixed_and_a_silent_port_is_audited_over_implicit_tls()
    {
        // Submission wants AUTH before MAIL (530): the recipient checks do not apply there (skipped, not
        // inconclusive). The implicit-TLS port is given without /tls: silent in clear, so the auditor tries TLS.
        await using var server = await ServerInstance.StartAsync();
        var (_, starttls, _) = await AuditWithNothingToFixAsync(server, "127.0.4.147", port: server.SubmissionPort);
        var (_, implicitTls, stderr) = await AuditWithNothingToFixAsync(server, "127.0.4.148", port: server.SubmissionsPort, options: ["--timeout", "2"]);
        foreach (var checks in new[] { starttls, implicitTls })
        {
            foreach (var id in new[] { "rcpt.postmaster", "enum.rcpt", "rcpt.limit" })
            {
                var c = checks.Single(c => c.GetProperty("id").GetString() == id);
                Assert.Equal("skipped", c.GetProperty("status").GetString());
                Assert.Contains("530 5.7.0", c.GetProperty("summary").GetString());
            }
        }
        Assert.Equal("pass", implicitTls.Single(c => c.GetProperty("id").GetString() == "tls.implicit").GetProperty("status").GetString());
        Assert.Equal("implicit TLS (RFC 8314)", implicitTls.Single(c => c.GetProperty("id").GetString() == "tls.offered").GetProperty("summary").GetString());
        Assert.Contains($"speaks implicit TLS: audited over TLS (next time give {server.SubmissionsPort}/tls)", stderr);
        Assert.DoesNotContain(starttls, c => c.GetProperty("id").GetString() == "tls.implicit");
    }

    /// <summary>
    /// Runs `audit smtp --json` against the server with a DNS server on <paramref name="dnsAddress"/> whose
    /// PTR names the server's hostname, which resolves back to it (reverse DNS as it should be), and asserts
    /// that no check failed or stayed inconclusive and that the exit code is 0.
    /// </summary>
    private static async Task<(JsonElement Report, List<JsonElement> Checks, string Stderr)> AuditWithNothingToFixAsync(ServerInstance server, string dnsAddress, string[]? options = null, int? port = null)
    {
        using var dns = new DnsTestServer(new IPEndPoint(IPAddress.Parse(dnsAddress), 10053));
        dns.AddPtr(server.Host, "mx.example.test");
        dns.AddA("mx.example.test", server.Host);
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "smtp", $"{server.Host}:{port ?? server.MxPort}", .. options ?? [], "--dns-server", dns.Setting, "--json"],
            timeout: TimeSpan.FromSeconds(120));
        var r = JsonDocument.Parse(stdout).RootElement;
        var checks = r.GetProperty("checks").EnumerateArray().ToList();
        var notPassed = checks.Where(c => c.GetProperty("status").GetString() is "fail" or "inconclusive")
            .Select(c => $"{c.GetProperty("id").GetString()}: {c.GetProperty("summary").GetString()}").ToList();
        Assert.True(notPassed.Count == 0, string.Join("\n", notPassed) + "\n" + stderr);
        Assert.Equal(0, exit);
        return (r, checks, stderr);
    }
}
