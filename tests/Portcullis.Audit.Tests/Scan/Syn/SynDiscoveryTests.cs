using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Scan;
using Portcullis.Audit.Scan.Syn;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Tests.Scan.Syn;

/// <summary>
/// SYN discovery over real loopback (needs CAP_NET_RAW: the test suite runs as root): listeners of our own on
/// 127.0.9.0/26; every other port there answers SYN with RST.
/// </summary>
public class SynDiscoveryTests
{
    [Fact]
    public async Task Syn_discovery_finds_exactly_the_listening_ports_and_connect_discovery_the_same()
    {
        Assert.Null(SynDiscovery.Unavailable(new EndpointSpace([(TargetSpec.Parse("127.0.9.1").Block!, [9])])));
        var listeners = new List<Socket>();
        try
        {
            var expected = new HashSet<string>();
            foreach (var addr in new[] { "127.0.9.1", "127.0.9.17", "127.0.9.40", "127.0.9.63" })
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Parse(addr), 0));
                s.Listen(16);
                listeners.Add(s);
                expected.Add(s.LocalEndPoint!.ToString()!);
            }
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Port).Append(9).Distinct().Order().ToList();
            var space = new EndpointSpace([(TargetSpec.Parse("127.0.9.0/26").Block!, ports)]);

            var syn = new SynDiscovery(space, new DiscoveryOptions { Method = DiscoveryMethod.Syn, Concurrency = 64 });
            var bySyn = new ConcurrentBag<string>();
            await syn.RunAsync((ep, _) => { bySyn.Add(ep.ToString()); return ValueTask.CompletedTask; }, CancellationToken.None);
            Assert.Equal(expected.Order(), bySyn.Order());
            Assert.Equal(space.Count, syn.Done);
            Assert.Equal(space.Count, syn.Watermark);
            Assert.Equal(0, syn.Filtered);
            Assert.Equal(4, syn.Open);

            var connect = new PortDiscovery(space, new DiscoveryOptions { Concurrency = 32 });
            var byConnect = new ConcurrentBag<string>();
            await connect.RunAsync((ep, _) => { byConnect.Add(ep.ToString()); return ValueTask.CompletedTask; }, CancellationToken.None);
            Assert.Equal(bySyn.Order(), byConnect.Order());
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public async Task A_silent_port_is_retransmitted_then_filtered_after_the_timeout()
    {
        using var silent = await SilentListener.StartAsync("127.0.9.70");
        var port = silent.Port;
        // 127.0.9.70 on the silent port, and on a closed one beside it.
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.9.70").Block!, [port, 9])]);
        var d = new SynDiscovery(space, new DiscoveryOptions { ConnectTimeout = TimeSpan.FromMilliseconds(600) });
        var clock = Stopwatch.StartNew();
        await d.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        Assert.Equal(2, d.Done);
        Assert.Equal(0, d.Open);
        Assert.Equal(1, d.Filtered);
        Assert.Equal(3, d.Packets); // the silent port's SYN was sent twice
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(500), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Syn_discovery_resumes_from_a_checkpoint_without_probing_what_was_done()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.9.80/28").Block!, [9])]);
        var d = new SynDiscovery(space, new DiscoveryOptions(), startIndex: 10);
        await d.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        Assert.Equal(16, d.Done); // 10 counted as done before, 6 probed now
        Assert.Equal(6, d.Packets);
    }

    [Fact]
    public async Task A_cancelled_syn_discovery_leaves_its_watermark_at_what_has_answered()
    {
        // 1,024 closed endpoints at 1,000 packets/s, stopped once 300 have answered (about 0.3 s in): the
        // checkpoint follows the answers (RSTs come back at once), not the 1.5 s give-up timeout. The stop comes
        // from a thread of its own watching the progress, not from a timer: on a loaded machine a timer on the
        // thread pool fired so late that the whole space had been probed (CI, session 4).
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.9.0/24").Block!, [9, 10, 11, 12])]);
        var d = new SynDiscovery(space, new DiscoveryOptions { Rate = 1000 });
        using var cts = new CancellationTokenSource();
        var stopper = new Thread(() =>
        {
            var deadline = Stopwatch.StartNew();
            while (d.Done < 300 && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(1);
            }
            cts.Cancel();
        })
        { IsBackground = true };
        stopper.Start();
        await d.RunAsync((_, _) => ValueTask.CompletedTask, cts.Token);
        stopper.Join();
        Assert.InRange(d.Done, 100, space.Count - 100);
        Assert.InRange(d.Watermark, d.Done - 192, d.Done); // lanes interleave chunks of 64: the lowest lane may trail by one
    }

    [Fact]
    public async Task Rate_limit_spaces_syn_packets()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.9.96/28").Block!, [9])]);
        var clock = Stopwatch.StartNew();
        var d = new SynDiscovery(space, new DiscoveryOptions { Rate = 40 });
        await d.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        // 16 packets at 40/s: the last leaves 15/40 s = 0.375 s after the first.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.35), $"took {clock.Elapsed}");
        Assert.Equal(16, d.Done);
    }

    [Fact]
    public void Ipv6_targets_are_not_for_syn_discovery()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("::1").Block!, [25])]);
        Assert.Contains("IPv6", SynDiscovery.Unavailable(space), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DiscoveryChoice.Resolve(DiscoveryMethod.Syn, space));
        Assert.Equal(DiscoveryMethod.Connect, DiscoveryChoice.Resolve(DiscoveryMethod.Auto, space).Method);
    }
}
