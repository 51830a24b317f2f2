using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>Debian's Postfix with two cleanup policies for 8-bit data (tests/peers/postfix-8bit.sh), for as long as the test class runs.</summary>
public sealed class Postfix8BitServers : IAsyncLifetime
{
    public const string HeadersOnly = "127.0.1.146"; // strict_7bit_headers = yes alone
    public const string Strict = "127.0.1.147"; // strict_8bitmime = yes
    public const string ContentFixes = "127.0.1.148"; // message_reject_characters = \0 and a body_checks rule for 999+ octet lines
    private const string Root = "/var/lib/portcullis-tests/postfix-8bit";
    private static string Script => Path.Combine(Paths.RepoRoot, "tests", "peers", "postfix-8bit.sh");

    public async Task InitializeAsync()
    {
        var (code, output) = await RelayPeers.RunAsync("bash", [Script, "start", Root], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "postfix-8bit.sh failed:\n" + output);
    }

    public async Task DisposeAsync() => await RelayPeers.RunAsync("bash", [Script, "stop", Root], TimeSpan.FromSeconds(30));
}

/// <summary>Catalog §4 "8-bit without declaration" against real Postfix policies (inconsistent fails, refusing both passes), and the recommended Postfix content fixes.</summary>
public sealed class SmtpAudit8BitTests(Postfix8BitServers servers) : IClassFixture<Postfix8BitServers>
{
    [Fact]
    public async Task Postfix_refusing_8bit_only_in_headers_fails_and_refusing_both_passes()
    {
        _ = servers;
        var (_, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "smtp", "--json", "--rcpt", "alice@eightbit.test", "--smuggling-wait", "0.3", Postfix8BitServers.HeadersOnly, Postfix8BitServers.Strict],
            timeout: TimeSpan.FromSeconds(90));
        var reports = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        Assert.True(reports.Count == 2, stderr);
        JsonElement Check(JsonElement r) => r.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("id").GetString() == "data.8bit-undeclared");

        var inconsistent = Check(reports[0]);
        Assert.True(inconsistent.GetProperty("status").GetString() == "fail", inconsistent.ToString());
        Assert.Equal("low", inconsistent.GetProperty("severity").GetString());
        var summary = inconsistent.GetProperty("summary").GetString()!;
        Assert.Contains("8-bit body without BODY=8BITMIME: accepted (250)", summary);
        Assert.Contains("8-bit Subject without SMTPUTF8: refused (550 5.6.0", summary);
        Assert.Contains("strict_8bitmime = yes", inconsistent.GetProperty("fix").GetString());

        var strict = Check(reports[1]);
        Assert.True(strict.GetProperty("status").GetString() == "pass", strict.ToString());
        Assert.StartsWith("refuses undeclared 8-bit data consistently", strict.GetProperty("summary").GetString());
    }

    // Catalog §4 "Long lines" and "NUL / control bytes": the Postfix fixes the auditor recommends really refuse both.
    [Fact]
    public async Task Postfix_with_the_recommended_content_fixes_refuses_the_long_line_and_the_nul_header()
    {
        _ = servers;
        var (_, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "smtp", "--json", "--rcpt", "alice@eightbit.test", "--smuggling-wait", "0.3", Postfix8BitServers.ContentFixes],
            timeout: TimeSpan.FromSeconds(90));
        var checks = JsonDocument.Parse(stdout).RootElement.GetProperty("checks").EnumerateArray().ToList();
        JsonElement Check(string id) => checks.Single(c => c.GetProperty("id").GetString() == id);
        var longData = Check("line.long-data");
        Assert.True(longData.GetProperty("status").GetString() == "pass", longData + "\n" + stderr);
        Assert.Equal("refused a 1001-octet text line: 550 5.6.0 Text line longer than 998 octets (RFC 5321 section 4.5.3.1.6)", longData.GetProperty("summary").GetString());
        var nul = Check("data.nul");
        Assert.True(nul.GetProperty("status").GetString() == "pass", nul.ToString());
        Assert.Equal("refused a NUL in the Subject: 550 5.7.1 disallowed character", nul.GetProperty("summary").GetString());
    }
}
