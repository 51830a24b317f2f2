using System.Net;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class MxResolverTests
{
    [Fact]
    public async Task Mx_hosts_come_in_preference_order_with_their_addresses()
    {
        using var dns = new Dnsmasq("127.0.2.53", 5354,
            "--mx-host=pref.test,mx2.pref.test,20", "--mx-host=pref.test,mx1.pref.test,10",
            "--host-record=mx1.pref.test,127.0.2.41", "--host-record=mx2.pref.test,127.0.2.42");
        var r = new MxResolver(new IPEndPoint(IPAddress.Parse("127.0.2.53"), 5354));
        var mx = await r.ResolveAsync("pref.test");
        Assert.Equal(["mx1.pref.test", "mx2.pref.test"], mx.Select(m => m.Host));
        Assert.Equal([10, 20], mx.Select(m => m.Preference));
        Assert.Equal(IPAddress.Parse("127.0.2.41"), Assert.Single(mx[0].Addresses));
        Assert.False(mx[0].Implicit);
    }

    [Fact]
    public async Task A_domain_without_mx_is_its_own_implicit_mx()
    {
        // --local: dnsmasq answers "no such record" for plain.test itself instead of REFUSED (no upstream).
        using var dns = new Dnsmasq("127.0.2.54", 5354, "--local=/plain.test/", "--host-record=plain.test,127.0.2.43");
        var mx = await new MxResolver(new IPEndPoint(IPAddress.Parse("127.0.2.54"), 5354)).ResolveAsync("plain.test");
        var only = Assert.Single(mx);
        Assert.True(only.Implicit);
        Assert.Equal("plain.test", only.Host);
        Assert.Equal(IPAddress.Parse("127.0.2.43"), Assert.Single(only.Addresses));
    }

    [Theory]
    [InlineData("127.0.0.53", "127.0.0.53:53")]
    [InlineData("127.0.2.53:5353", "127.0.2.53:5353")]
    [InlineData("[::1]:5353", "[::1]:5353")]
    [InlineData("::1", "[::1]:53")]
    public void Dns_server_option_parses_address_and_port(string text, string expected) =>
        Assert.Equal(expected, MxResolver.ParseServer(text).ToString());

    [Fact]
    public void A_bad_dns_server_is_a_format_error() =>
        Assert.Throws<FormatException>(() => MxResolver.ParseServer("dns.example:53"));
}
