using System.Text.Json;
using Portcullis.Audit.Tests.Proxy;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// "Never more than one connection at a time to one host unless asked" (issues 4 and 5, catalog §6.2 step 5),
/// inside `portcullis scan`: one host (127.0.6.40, in the block 127.0.6.32/28) runs an SMTP server and three
/// slow proxy ports, all counting the scanner's audit connections together.
/// </summary>
public class ScanPolitenessTests
{
    [Fact]
    public async Task Scan_audits_one_host_with_one_connection_at_a_time_across_its_smtp_and_proxy_ports()
    {
        var counter = new ConnectionCounter();
        var slow = counter.Wrap(ConnectionCounter.Slow403(TimeSpan.FromMilliseconds(50)));
        var servers = new List<LoopbackServer>
        {
            new("127.0.6.40", port: 25, handler: counter.Wrap(ProxyPeersLocal.Smtp("polite.test", "554 5.7.1 relay access denied"))),
            new("127.0.6.40", port: 1080, handler: slow),
            new("127.0.6.40", port: 3128, handler: slow),
            new("127.0.6.40", port: 8080, handler: slow),
        };
        var journal = Path.GetTempFileName();
        try
        {
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(
                ["scan", "127.0.6.32/28", "--smtp", "--proxy", "--ports", "25,1080,3128,8080", "--canary-listen", "127.0.6.33:0",
                 "--timeout", "2", "--jsonl", journal], timeout: TimeSpan.FromMinutes(2));
            var reports = File.ReadLines(journal).Count(l => l.Contains("\"type\":\"report\"", StringComparison.Ordinal));
            Assert.True(reports == 4, $"{reports} reports (exit {code})\n{stderr}\n{stdout}");
            // Every proxy type ran on each of the three proxy ports, on its own connection...
            Assert.True(counter.Counted > 3 * 8, $"only {counter.Counted} audit connections were seen");
            // ...and the host never saw two audit connections at once.
            Assert.Equal(1, counter.Max);
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
}
