using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Tests.Targets;

public class TargetSpecTests
{
    [Fact]
    public void Ipv4_cidr_covers_the_whole_block_from_its_network_address()
    {
        var s = TargetSpec.Parse("192.0.2.77/24");
        Assert.Equal((UInt128)256, s.Block!.Count);
        Assert.Equal(IPAddress.Parse("192.0.2.0"), s.Block.AddressAt(0));
        Assert.Equal(IPAddress.Parse("192.0.2.255"), s.Block.AddressAt(255));
        Assert.Null(s.Port);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 16777216)]
    [InlineData("127.16.0.0/16", 65536)]
    [InlineData("192.0.2.1/32", 1)]
    [InlineData("192.0.2.0/31", 2)]
    public void Ipv4_prefix_length_sets_the_block_size(string text, long size) =>
        Assert.Equal((UInt128)size, TargetSpec.Parse(text).Block!.Count);

    [Fact]
    public void Ipv6_cidr_is_expanded_like_ipv4()
    {
        var b = TargetSpec.Parse("2001:db8::1234/120").Block!;
        Assert.Equal(AddressFamily.InterNetworkV6, b.Family);
        Assert.Equal((UInt128)256, b.Count);
        Assert.Equal(IPAddress.Parse("2001:db8::1200"), b.AddressAt(0));
        Assert.Equal(IPAddress.Parse("2001:db8::12ff"), b.AddressAt(255));
    }

    [Fact]
    public void Full_range_includes_both_ends()
    {
        var b = TargetSpec.Parse("192.0.2.250-192.0.3.5").Block!;
        Assert.Equal((UInt128)12, b.Count);
        Assert.Equal(IPAddress.Parse("192.0.3.5"), b.AddressAt(11));
    }

    [Fact]
    public void Last_octet_range_is_nmap_style()
    {
        var b = TargetSpec.Parse("192.0.2.10-40").Block!;
        Assert.Equal((UInt128)31, b.Count);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), b.AddressAt(0));
        Assert.Equal(IPAddress.Parse("192.0.2.40"), b.AddressAt(30));
    }

    [Fact]
    public void Ipv6_range_is_accepted()
    {
        var b = TargetSpec.Parse("::1-::3").Block!;
        Assert.Equal((UInt128)3, b.Count);
        Assert.Equal(IPAddress.Parse("::3"), b.AddressAt(2));
    }

    [Theory]
    [InlineData("192.0.2.7:25", "192.0.2.7", 25)]
    [InlineData("[2001:db8::1]:587", "2001:db8::1", 587)]
    [InlineData("2001:db8::1", "2001:db8::1", null)]
    [InlineData("192.0.2.7", "192.0.2.7", null)]
    public void Address_with_or_without_port(string text, string address, int? port)
    {
        var s = TargetSpec.Parse(text);
        Assert.Equal(IPAddress.Parse(address), s.Block!.AddressAt(0));
        Assert.Equal((UInt128)1, s.Block.Count);
        Assert.Equal(port, s.Port);
    }

    [Fact]
    public void Host_names_stay_names_for_mx_or_address_lookup()
    {
        var s = TargetSpec.Parse("Mail.Example.COM.:2525");
        Assert.True(s.IsName);
        Assert.Equal("mail.example.com", s.HostName);
        Assert.Equal(2525, s.Port);
        Assert.Equal("example.com", TargetSpec.Parse("example.com").HostName);
    }

    [Theory]
    [InlineData("192.0.2.0/33")]
    [InlineData("192.0.2.9-192.0.2.1")]
    [InlineData("192.0.2.1:0")]
    [InlineData("192.0.2.1:70000")]
    [InlineData("192.0.2.1-::5")]
    [InlineData("bad host!")]
    [InlineData("[::1")]
    public void Malformed_targets_are_refused_with_a_reason(string text)
    {
        Assert.False(TargetSpec.TryParse(text, out _, out var error));
        Assert.Contains(text.Trim(), error, StringComparison.Ordinal);
    }

    [Fact]
    public void File_of_targets_skips_comments_and_reports_bad_lines_with_their_number()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "# our networks\n192.0.2.0/30  198.51.100.7:25\n\nmx.example.net # MX\n");
            var specs = TargetSpec.ParseAll(["@" + path]);
            Assert.Equal(3, specs.Count);
            Assert.Equal((UInt128)4, specs[0].Block!.Count);
            Assert.Equal(25, specs[1].Port);
            Assert.Equal("mx.example.net", specs[2].HostName);

            File.WriteAllText(path, "192.0.2.1\n192.0.2.0/99\n");
            var e = Assert.Throws<FormatException>(() => TargetSpec.ParseAll([path]));
            Assert.Contains(":2:", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
