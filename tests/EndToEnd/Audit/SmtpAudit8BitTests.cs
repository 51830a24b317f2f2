using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>Debian's Postfix with two cleanup policies for 8-bit data (tests/peers/postfix-8bit.sh), for as long as the test class runs.</summary>
public sealed class Postfix8BitServers : IAsyncLifetime
{
    public const string HeadersOnly = "127.0.1.146"; // strict_7bit_headers = yes alone
    public const string Strict = "127.0.1.147"; // strict_8bitmime = yes
    private const string Root = "/var/lib/portcullis-tests/postfix-8bit";
    private static string Script => Path.Combine(Paths.RepoRoot, "tests", "peers", "postfix-8bit.sh");

    public async Task InitializeAsync()
    {
        var (code, output) = await RelayPeers.RunAsync("bash", [Script, "start", Root], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, "postfix-8bit.sh failed:\n" + output);
    }

    public async Task DisposeAsync() => await RelayPeers.RunAsync("bash", [Script, "stop", Root], TimeSpan.FromSeconds(30));
}

/// <summary>Catalog §4 "8-bit without declaration" against real Postfix policies: inconsistent fails, refusing both passes.</summary>
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
}
