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
        // Reverse DNS as it should be: the PTR names the server's hostname, which resolves back to it.
        using var dns = new DnsTestServer(new IPEndPoint(IPAddress.Parse("127.0.1.145"), 10053));
        dns.AddPtr(server.Host, "mx.example.test");
        dns.AddA("mx.example.test", server.Host);
        var (exit, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "smtp", $"{server.Host}:{server.MxPort}", "--rcpt", "alice@example.test", "--smuggling-wait", "1", "--dns-server", dns.Setting, "--json"],
            timeout: TimeSpan.FromSeconds(120));
        var r = JsonDocument.Parse(stdout).RootElement;
        var checks = r.GetProperty("checks").EnumerateArray().ToList();
        var notPassed = checks.Where(c => c.GetProperty("status").GetString() is "fail" or "inconclusive")
            .Select(c => $"{c.GetProperty("id").GetString()}: {c.GetProperty("summary").GetString()}").ToList();
        Assert.True(notPassed.Count == 0, string.Join("\n", notPassed) + "\n" + stderr);
        Assert.Equal(0, exit);
        Assert.Equal("closed", r.GetProperty("verdict").GetString());
        Assert.Equal("Portcullis", r.GetProperty("software").GetString());
        // STARTTLS is offered, so the relay matrix also ran over TLS, and the injection probe ran.
        Assert.Contains("over STARTTLS", stderr);
        Assert.Equal("pass", checks.Single(c => c.GetProperty("id").GetString() == "tls.starttls-injection").GetProperty("status").GetString());
        Assert.All(checks.Where(c => c.GetProperty("id").GetString()!.StartsWith("smuggling.", StringComparison.Ordinal)),
            c => Assert.Equal("pass", c.GetProperty("status").GetString()));
        Assert.Equal(12, checks.Count(c => c.GetProperty("id").GetString()!.StartsWith("smuggling.", StringComparison.Ordinal)));
        foreach (var id in new[] { "pipelining.discipline", "path.limits", "auth.ntlm-info", "dns.reverse", "data.8bit-undeclared", "line.long-data", "data.nul" })
        {
            Assert.Equal("pass", checks.Single(c => c.GetProperty("id").GetString() == id).GetProperty("status").GetString());
        }
        // Portcullis takes undeclared 8-bit data in body and header alike; its PTR matches its greeting.
        Assert.StartsWith("accepts undeclared 8-bit data consistently", checks.Single(c => c.GetProperty("id").GetString() == "data.8bit-undeclared").GetProperty("summary").GetString());
        // Catalog §4: Portcullis refuses a 1001-octet text line and a NUL in a header at the end of data.
        Assert.Equal("refused a 1001-octet text line: 550 5.6.0 Message has a line longer than 1000 octets (RFC 5321 §4.5.3.1.6)", checks.Single(c => c.GetProperty("id").GetString() == "line.long-data").GetProperty("summary").GetString());
        Assert.Equal("refused a NUL in the Subject: 550 5.6.0 Message contains a NUL character", checks.Single(c => c.GetProperty("id").GetString() == "data.nul").GetProperty("summary").GetString());
        Assert.Contains("matches the greeting and EHLO name", checks.Single(c => c.GetProperty("id").GetString() == "dns.reverse").GetProperty("summary").GetString());
    }
}
