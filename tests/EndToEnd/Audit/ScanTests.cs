using Portcullis.Audit.Tests.Proxy;
using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>`portcullis scan` over a loopback block of our own (127.0.3.64/27) holding a few SMTP servers and proxies.</summary>
public class ScanTests
{
    private const string Block = "127.0.3.64/27";

    private static async Task<List<LoopbackServer>> StartBlockAsync()
    {
        await Task.Yield();
        return
        [
            new LoopbackServer("127.0.3.70", port: 25, handler: ProxyPeersLocal.Smtp("relay-candidate.test", "250 2.1.5 ok")),
            new LoopbackServer("127.0.3.71", port: 25, handler: ProxyPeersLocal.Smtp("closed.test", "554 5.7.1 relay access denied")),
            new LoopbackServer("127.0.3.80", port: 1080, handler: LoopbackServer.OpenSocks5),
            new LoopbackServer("127.0.3.81", port: 8080, handler: LoopbackServer.Grants200ButNeverConnects),
            new LoopbackServer("127.0.3.82", port: 3128, handler: ProxyPeersLocal.ClosedHttpProxy),
        ];
    }

    private static readonly Dictionary<string, string> Expected = new()
    {
        ["127.0.3.70:25"] = "inconclusive", // RCPT 250 is only a relay candidate (catalog §6.3)
        ["127.0.3.71:25"] = "closed",
        ["127.0.3.80:1080"] = "open",
        ["127.0.3.81:8080"] = "closed",    // says 200, never connects
        ["127.0.3.82:3128"] = "closed",
    };

    private static string[] ScanArgs(string journal) =>
        ["scan", Block, "--smtp", "--proxy", "--ports", "25,1080,3128,8080", "--canary-listen", "127.0.3.65:2525", "--timeout", "2", "--jsonl", journal,
         // Speed: four probes at once per host (the traps make each probe wait); ScanPolitenessTests covers the default of one.
         "--host-connections", "4"];

    [Fact]
    public async Task Scan_of_a_loopback_block_finds_exactly_its_smtp_servers_and_proxies_and_proves_the_open_one()
    {
        var servers = await StartBlockAsync();
        var journal = Path.GetTempFileName();
        try
        {
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(ScanArgs(journal), timeout: TimeSpan.FromMinutes(2));
            Assert.Contains("authorised", stderr, StringComparison.Ordinal);
            var (opens, verdicts) = ReadJournal(journal);
            Assert.Equal(Expected.Keys.Order(), opens.Order());
            Assert.Equal(Expected.OrderBy(k => k.Key), verdicts.OrderBy(k => k.Key));
            Assert.Contains("5 open", stdout, StringComparison.Ordinal);
            Assert.Contains("OPEN PROXY", stdout, StringComparison.Ordinal);
            Assert.Equal(1, code);
        }
        finally
        {
            foreach (var s in servers)
            {
                await s.DisposeAsync();
            }
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task An_interrupted_scan_resumes_from_its_journal_and_ends_with_every_finding()
    {
        var servers = await StartBlockAsync();
        var full = Path.GetTempFileName();
        var cut = Path.GetTempFileName();
        try
        {
            // A first run is interrupted after discovery reached the first SMTP server: keep the header,
            // that server's "open" line and a checkpoint just past it (what a killed scan leaves behind).
            var first = await PortcullisProcess.RunAsync(ScanArgs(full), timeout: TimeSpan.FromMinutes(2));
            var lines = await File.ReadAllLinesAsync(full);
            // Opens are journalled as found, not in index order: the checkpoint covers only the lowest.
            var firstOpen = lines.Where(l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal))
                .MinBy(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt64())!;
            var index = JsonDocument.Parse(firstOpen).RootElement.GetProperty("index").GetInt64();
            await File.WriteAllLinesAsync(cut, [lines[0], firstOpen, $"{{\"type\":\"checkpoint\",\"next\":{index + 1}}}"]);

            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["scan", "--resume", cut], timeout: TimeSpan.FromMinutes(2));
            Assert.Contains("resuming at " + (index + 1), stderr, StringComparison.Ordinal);
            var (opens, verdicts) = ReadJournal(cut);
            Assert.Equal(Expected.Keys.Order(), opens.Order());
            Assert.Equal(Expected.OrderBy(k => k.Key), verdicts.OrderBy(k => k.Key));
            Assert.Equal(first.ExitCode, code);
        }
        finally
        {
            foreach (var s in servers)
            {
                await s.DisposeAsync();
            }
            File.Delete(full);
            File.Delete(cut);
        }
    }

    [Fact]
    public async Task More_than_256_addresses_need_authorized()
    {
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["scan", "127.0.3.0/23", "--ports", "9"]);
        Assert.Equal(2, code);
        Assert.Contains("--authorized", stderr, StringComparison.Ordinal);
        Assert.Contains("512 addresses", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout.Trim());
    }

    [Fact]
    public async Task Proxy_scan_without_a_proof_target_is_a_usage_error()
    {
        var (code, _, stderr) = await PortcullisProcess.RunAsync(["scan", "127.0.3.96/30", "--proxy"]);
        Assert.Equal(2, code);
        Assert.Contains("--through-to", stderr, StringComparison.Ordinal);
    }

    private static (List<string> Opens, Dictionary<string, string> Verdicts) ReadJournal(string path)
    {
        var opens = new List<string>();
        var verdicts = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var o = doc.RootElement;
            switch (o.GetProperty("type").GetString())
            {
                case "open":
                    opens.Add($"{o.GetProperty("address").GetString()}:{o.GetProperty("port").GetInt32()}");
                    break;
                case "report":
                    var r = o.GetProperty("report");
                    var port = r.GetProperty("checks").EnumerateArray().First().GetProperty("port").GetInt32();
                    verdicts[$"{r.GetProperty("address").GetString()}:{port}"] = r.GetProperty("verdict").GetString()!;
                    break;
            }
        }
        return (opens.Distinct().ToList(), verdicts);
    }
}
