using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Scan;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Tests.Scan;

/// <summary>Discovery over real loopback sockets: listeners on 127.0.3.16/28, everything else refuses.</summary>
public class PortDiscoveryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Discovery_finds_exactly_the_listening_ports_of_a_block(bool portableOnly)
    {
        var listeners = new List<Socket>();
        try
        {
            var expected = new HashSet<string>();
            foreach (var (addr, port) in new[] { ("127.0.3.17", 0), ("127.0.3.20", 0), ("127.0.3.30", 0) })
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Parse(addr), port));
                s.Listen(16);
                listeners.Add(s);
                expected.Add(s.LocalEndPoint!.ToString()!);
            }
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Port).Distinct().Order().ToList();
            var space = new EndpointSpace([(TargetSpec.Parse("127.0.3.16/28").Block!, ports)]);
            var found = new ConcurrentBag<string>();
            var discovery = new PortDiscovery(space, new DiscoveryOptions { Concurrency = 8, PortableOnly = portableOnly });
            await discovery.RunAsync((ep, _) => { found.Add(ep.ToString()); return ValueTask.CompletedTask; }, CancellationToken.None);
            Assert.Equal(expected.Order(), found.Order());
            Assert.Equal(space.Count, discovery.Done);
            Assert.Equal(space.Count, discovery.Watermark);
            Assert.Equal(3, discovery.Open);
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public async Task Silent_ports_count_as_filtered_after_the_connect_timeout()
    {
        using var silent = await SilentListener.StartAsync("127.0.3.60");
        var port = silent.Port;
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.3.60").Block!, [port])]);
        var d = new PortDiscovery(space, new DiscoveryOptions { Concurrency = 2, ConnectTimeout = TimeSpan.FromMilliseconds(500) });
        var clock = Stopwatch.StartNew();
        await d.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        Assert.Equal(1, d.Done);
        Assert.Equal(0, d.Open);
        Assert.Equal(1, d.Filtered);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(400), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Discovery_resumes_from_a_checkpoint_without_trying_what_was_done()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.3.32/28").Block!, [9])]);
        var discovery = new PortDiscovery(space, new DiscoveryOptions { Concurrency = 4 }, startIndex: 10);
        await discovery.RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        Assert.Equal(16, discovery.Done); // 10 counted as done before, 6 tried now
    }

    [Fact]
    public async Task Rate_limit_spaces_connection_attempts()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("127.0.3.48/28").Block!, [9])]);
        var clock = Stopwatch.StartNew();
        await new PortDiscovery(space, new DiscoveryOptions { Concurrency = 16, Rate = 40 }).RunAsync((_, _) => ValueTask.CompletedTask, CancellationToken.None);
        // 16 attempts at 40/s: the last starts 15/40 s = 0.375 s after the first.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.3), $"took {clock.Elapsed}");
    }
}
