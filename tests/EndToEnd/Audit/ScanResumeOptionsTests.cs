using System.Diagnostics;
using System.Text.Json;
using Portcullis.Audit.Tests.Proxy;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// `scan --resume FILE` keeps the interrupted scan's --discovery, --rate, --concurrency and the other options
/// that shape it (issue 5): a real scan of 127.0.6.64/26 is interrupted with SIGINT, then resumed with the file alone.
/// </summary>
public class ScanResumeOptionsTests
{
    private const int Endpoints = 64 * 4;
    private const double Rate = 40;

    [Fact]
    public async Task Interrupted_scan_resumed_from_its_journal_keeps_its_rate_and_concurrency()
    {
        await using var open = new LoopbackServer("127.0.6.92", LoopbackServer.OpenSocks5, port: 1080);
        await using var closed = new LoopbackServer("127.0.6.70", ProxyPeersLocal.ClosedHttpProxy, port: 3128);
        var journal = Path.GetTempFileName();
        try
        {
            // 256 endpoints at 40 a second take 6.4 s: interrupt after about one second of discovery.
            await using (var first = PortcullisProcess.Start(["scan", "127.0.6.64/26", "--proxy", "--ports", "25,1080,3128,8080", "--discovery", "connect",
                "--rate", "40", "--concurrency", "3", "--connect-timeout", "0.5", "--audit-concurrency", "5",
                "--canary-listen", "127.0.6.65:0", "--timeout", "2", "--jsonl", journal]))
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (Checkpoint(journal) == 0 && DateTime.UtcNow < deadline && !first.HasExited)
                {
                    await Task.Delay(100);
                }
                using (var intr = Process.Start("kill", ["-INT", first.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await intr!.WaitForExitAsync();
                }
                var stopping = Stopwatch.StartNew();
                await first.WaitForExitAsync(TimeSpan.FromSeconds(20));
                Assert.True(first.StandardError.Contains("--resume " + journal, StringComparison.Ordinal),
                    $"exit {first.ExitCode} {stopping.Elapsed.TotalSeconds:F1} s after SIGINT\n{first.StandardError}");
            }
            var lines = await File.ReadAllLinesAsync(journal);
            Assert.DoesNotContain(lines, l => l.Contains("\"type\":\"discovery\"", StringComparison.Ordinal));
            var header = JsonDocument.Parse(lines[0]).RootElement;
            Assert.Equal(Rate, header.GetProperty("rate").GetDouble());
            Assert.Equal(3, header.GetProperty("concurrency").GetInt32());
            Assert.Equal(0.5, header.GetProperty("connectTimeout").GetDouble());
            Assert.Equal(5, header.GetProperty("auditConcurrency").GetInt32());
            Assert.Equal("connect", header.GetProperty("discovery").GetString());
            var at = Checkpoint(journal);
            Assert.InRange(at, 1, Endpoints - 60); // at least 1.5 s of discovery left to time

            // Resumed with the file alone: the same rate and concurrency, so the rest takes its time.
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["scan", "--resume", journal], timeout: TimeSpan.FromMinutes(2));
            Assert.True(code == 1, $"exit {code}\n{stderr}\n{stdout}");
            Assert.Contains("3 in flight, 40/s", stderr, StringComparison.Ordinal);
            // The method too: as root, auto would have switched to SYN probes.
            Assert.Contains("discovery by TCP connect (--discovery connect)", stderr, StringComparison.Ordinal);
            Assert.Contains("audits: 5 host(s) at once", stderr, StringComparison.Ordinal);
            var discovery = File.ReadLines(journal).Select(l => JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("type").GetString() == "discovery");
            var tried = discovery.GetProperty("tried").GetInt64();
            Assert.True(tried >= Endpoints - at - 3, $"tried {tried} from {at}");
            // At 40 a second, the rest cannot take less than (tried - 1) / 40 seconds (with a little slack).
            var seconds = discovery.GetProperty("seconds").GetDouble();
            Assert.True(seconds >= (tried - 1) / Rate * 0.9, $"{tried} endpoints in {seconds} s: faster than --rate 40");
            var verdicts = File.ReadLines(journal).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.GetProperty("type").GetString() == "report")
                .ToDictionary(e => e.GetProperty("report").GetProperty("address").GetString()!, e => e.GetProperty("report").GetProperty("verdict").GetString());
            Assert.Equal("open", verdicts["127.0.6.92"]);
            Assert.Equal("closed", verdicts["127.0.6.70"]);

            // Options given again win over the journal's.
            var again = await PortcullisProcess.RunAsync(["scan", "--resume", journal, "--concurrency", "9", "--rate", "100"], timeout: TimeSpan.FromMinutes(1));
            Assert.Contains("9 in flight, 100/s", again.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    private static long Checkpoint(string journal)
    {
        long next = 0;
        using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("\"type\":\"checkpoint\"", StringComparison.Ordinal) && line.EndsWith('}'))
            {
                next = Math.Max(next, JsonDocument.Parse(line).RootElement.GetProperty("next").GetInt64());
            }
        }
        return next;
    }
}
