using System.Net;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Tests.Targets;

public class EndpointSpaceTests
{
    [Fact]
    public void Endpoints_are_numbered_block_by_block_address_by_address_port_by_port()
    {
        var space = new EndpointSpace([
            (TargetSpec.Parse("192.0.2.0/31").Block!, [25, 1080]),
            (TargetSpec.Parse("198.51.100.9").Block!, [3128]),
        ]);
        Assert.Equal(5, space.Count);
        Assert.Equal((UInt128)3, space.AddressCount);
        var all = Enumerable.Range(0, 5).Select(i => space.EndPointAt(i).ToString()).ToList();
        Assert.Equal(["192.0.2.0:25", "192.0.2.0:1080", "192.0.2.1:25", "192.0.2.1:1080", "198.51.100.9:3128"], all);
    }

    [Fact]
    public void A_slash16_times_four_ports_is_numbers_not_objects_and_every_endpoint_is_distinct()
    {
        var space = new EndpointSpace([(TargetSpec.Parse("127.16.0.0/16").Block!, [25, 1080, 3128, 8080])]);
        Assert.Equal(262144, space.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.16.255.255"), 8080), space.EndPointAt(262143));
        var seen = new HashSet<(UInt128, int)>();
        for (long i = 0; i < space.Count; i += 997)
        {
            var (block, offset, port) = space.At(i);
            Assert.True(seen.Add((block.First + offset, port)));
        }
    }

    [Theory]
    [InlineData("25,587", new[] { 25, 587 })]
    [InlineData("8000-8003,25", new[] { 25, 8000, 8001, 8002, 8003 })]
    [InlineData("1080,1080", new[] { 1080 })]
    public void Port_lists_are_parsed_like_nmap(string text, int[] expected) =>
        Assert.Equal(expected, PortList.Parse(text));

    [Theory]
    [InlineData("0")]
    [InlineData("25-10")]
    [InlineData("http")]
    [InlineData("")]
    public void Bad_port_lists_are_refused(string text) =>
        Assert.Throws<FormatException>(() => PortList.Parse(text));

    [Fact]
    public void Every_ipv4_endpoint_maps_back_to_its_number_and_others_to_none()
    {
        // Out of order, one block with many ports (dictionary lookup), one inside another (the first number wins).
        var space = new EndpointSpace([
            (TargetSpec.Parse("198.51.100.8/30").Block!, [25, 1080]),
            (TargetSpec.Parse("192.0.2.0/29").Block!, [.. Enumerable.Range(1, 12)]),
            (TargetSpec.Parse("192.0.2.4").Block!, [25, 3]),
            (TargetSpec.Parse("2001:db8::1").Block!, [25]),
        ]);
        for (long i = 0; i < space.Count; i++)
        {
            var ep = space.EndPointAt(i);
            if (ep.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                continue;
            }
            var number = (uint)AddressBlock.ToNumber(ep.Address);
            Assert.True(space.TryIndexOfIPv4(number, ep.Port, out var back), ep.ToString());
            var expected = ep.ToString() == "192.0.2.4:25" || ep.ToString() == "192.0.2.4:3" ? space.TryIndexOfIPv4(number, ep.Port, out var first) ? first : -1 : i;
            Assert.Equal(expected, back);
            Assert.Equal(ep, space.EndPointAt(back));
        }
        // 192.0.2.4:3 is numbered first in the /29 block (address 4, port position 2): 8 + 4 * 12 + 2.
        Assert.True(space.TryIndexOfIPv4((uint)AddressBlock.ToNumber(IPAddress.Parse("192.0.2.4")), 3, out var overlap));
        Assert.Equal(8 + (4 * 12) + 2, overlap);
        Assert.False(space.TryIndexOfIPv4((uint)AddressBlock.ToNumber(IPAddress.Parse("192.0.2.8")), 3, out _));
        Assert.False(space.TryIndexOfIPv4((uint)AddressBlock.ToNumber(IPAddress.Parse("198.51.100.9")), 3128, out _));
        Assert.False(space.TryIndexOfIPv4((uint)AddressBlock.ToNumber(IPAddress.Parse("198.51.100.12")), 25, out _));
        Assert.False(space.TryIndexOfIPv4(0, 25, out _));
        Assert.False(space.IsIPv4Only);
    }
}
