using System.Text.Json;
using Portcullis.Audit.Tests.Proxy;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// `portcullis scan --discovery syn|connect|auto` over a loopback block of our own (127.0.10.0/26): SYN
/// discovery (raw socket, needs CAP_NET_RAW: the suite runs as root) and connect discovery find exactly the
/// listening ports; without CAP_NET_RAW, auto falls back to connect and says why.
/// </summary>
public class ScanDiscoveryTests
{
    private const string Block = "127.0.10.0/26";
    private const string Ports = "25,1080,3128,8080";

    /// <summary>Drops CAP_NET_RAW from every set a root exec could regain it from (setpriv, util-linux).</summary>
    private static readonly string[] WithoutNetRaw = ["setpriv", "--inh-caps=-net_raw", "--ambient-caps=-net_raw", "--bounding-set=-net_raw", "--"];

    private static List<LoopbackServer> StartBlock() =>
    [
        new LoopbackServer("127.0.10.5", port: 25, handler: LoopbackServer.OpenSocks5),
        new LoopbackServer("127.0.10.33", port: 1080, handler: LoopbackServer.OpenSocks5),
        new LoopbackServer("127.0.10.34", port: 8080, handler: LoopbackServer.OpenSocks5),
        new LoopbackServer("127.0.10.62", port: 3128, handler: LoopbackServer.OpenSocks5),
    ];

    private static readonly string[] Expected = ["127.0.10.33:1080", "127.0.10.34:8080", "127.0.10.5:25", "127.0.10.62:3128"];

    [Fact]
    public async Task Syn_discovery_finds_exactly_the_listening_ports_and_connect_discovery_finds_the_same()
    {
        var servers = StartBlock();
        var synJournal = Path.GetTempFileName();
        var connectJournal = Path.GetTempFileName();
        try
        {
            var syn = await PortcullisProcess.RunAsync(["scan", Block, "--ports", Ports, "--discovery", "syn", "--jsonl", synJournal], timeout: TimeSpan.FromMinutes(1));
            Assert.Contains("discovery by SYN over a raw socket", syn.Stderr, StringComparison.Ordinal);
            Assert.Equal(Expected, Opens(synJournal));
            Assert.Contains("256 endpoints, 256 tried", syn.Stdout, StringComparison.Ordinal);
            Assert.Contains("4 open, 0 filtered", syn.Stdout, StringComparison.Ordinal);

            var connect = await PortcullisProcess.RunAsync(["scan", Block, "--ports", Ports, "--discovery", "connect", "--jsonl", connectJournal], timeout: TimeSpan.FromMinutes(1));
            Assert.Contains("discovery by TCP connect (--discovery connect)", connect.Stderr, StringComparison.Ordinal);
            Assert.Equal(Expected, Opens(connectJournal));
            Assert.Equal(syn.ExitCode, connect.ExitCode);

            // auto, as root: SYN
            var auto = await PortcullisProcess.RunAsync(["scan", Block, "--ports", Ports], timeout: TimeSpan.FromMinutes(1));
            Assert.Contains("discovery by SYN over a raw socket (auto: CAP_NET_RAW available)", auto.Stderr, StringComparison.Ordinal);
            Assert.Contains("4 open, 0 filtered", auto.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var s in servers)
            {
                await s.DisposeAsync();
            }
            File.Delete(synJournal);
            File.Delete(connectJournal);
        }
    }

    [Fact]
    public async Task Without_cap_net_raw_auto_falls_back_to_connect_and_says_why()
    {
        var servers = StartBlock();
        var journal = Path.GetTempFileName();
        try
        {
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["scan", Block, "--ports", Ports, "--jsonl", journal],
                timeout: TimeSpan.FromMinutes(1), launcher: WithoutNetRaw);
            Assert.Contains("discovery by TCP connect (auto: SYN discovery unavailable: no CAP_NET_RAW: socket(AF_INET, SOCK_RAW, IPPROTO_TCP) failed (EPERM", stderr, StringComparison.Ordinal);
            Assert.Equal(Expected, Opens(journal));
            Assert.Contains("4 open, 0 filtered", stdout, StringComparison.Ordinal);
            Assert.Equal(0, code);

            // Asking for SYN explicitly without the capability is a usage error that says why.
            var syn = await PortcullisProcess.RunAsync(["scan", Block, "--ports", Ports, "--discovery", "syn"], launcher: WithoutNetRaw);
            Assert.Equal(2, syn.ExitCode);
            Assert.Contains("--discovery syn: no CAP_NET_RAW", syn.Stderr, StringComparison.Ordinal);
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

    private static List<string> Opens(string journal) =>
        [.. File.ReadLines(journal)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(o => o.GetProperty("type").GetString() == "open")
            .Select(o => $"{o.GetProperty("address").GetString()}:{o.GetProperty("port").GetInt32()}")
            .Order(StringComparer.Ordinal)];
}
