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
}
