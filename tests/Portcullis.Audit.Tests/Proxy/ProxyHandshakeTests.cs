using System.Net;
using Portcullis.Audit.Proxy;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>The request bytes, compared byte for byte with catalog §5.2.</summary>
public class ProxyHandshakeTests
{
    [Fact]
    public void Http_connect_is_libopms_request_line_and_the_mikrotik_crlf_is_separate()
    {
        Assert.Equal("CONNECT 203.0.113.5:6667 HTTP/1.0\r\n\r\n"u8.ToArray(), ProxyHandshake.HttpConnect("203.0.113.5", 6667));
        Assert.Equal("\r\n"u8.ToArray(), ProxyHandshake.MikroTikExtraLine.ToArray());
        Assert.Equal("CONNECT [2001:db8::5]:25 HTTP/1.0\r\n\r\n"u8.ToArray(), ProxyHandshake.HttpConnect("2001:db8::5", 25));
    }

    [Fact]
    public void Http_post_is_libopms_request_byte_for_byte()
    {
        Assert.Equal(
            "POST http://203.0.113.5:6667/ HTTP/1.0\r\nContent-type: text/plain\r\nContent-length: 5\r\n\r\nquit\r\n\r\n"u8.ToArray(),
            ProxyHandshake.HttpPost("203.0.113.5", 6667));
    }

    [Fact]
    public void Http_get_uses_an_absolute_uri_and_a_host_header()
    {
        Assert.Equal("GET http://203.0.113.5:80/x HTTP/1.0\r\nHost: 203.0.113.5:80\r\n\r\n"u8.ToArray(), ProxyHandshake.HttpGet("203.0.113.5", 80, "/x"));
    }

    [Fact]
    public void Socks4_is_04_01_port_address_and_an_empty_userid()
    {
        Assert.Equal(Convert.FromHexString("04011A0BCB00710500"), ProxyHandshake.Socks4(IPAddress.Parse("203.0.113.5"), 6667));
        Assert.Throws<ArgumentException>(() => ProxyHandshake.Socks4(IPAddress.IPv6Loopback, 25));
    }

    [Fact]
    public void Socks4a_sends_0_0_0_1_then_the_host_name_after_the_userid_nul()
    {
        Assert.Equal(
            [0x04, 0x01, 0x00, 0x19, 0x00, 0x00, 0x00, 0x01, 0x00, .. "mx.example"u8.ToArray(), 0x00],
            ProxyHandshake.Socks4a("mx.example", 25));
    }

    [Fact]
    public void Socks5_greeting_offers_only_no_auth_and_connect_encodes_each_address_type()
    {
        Assert.Equal(new byte[] { 5, 1, 0 }, ProxyHandshake.Socks5Greeting.ToArray());
        Assert.Equal(Convert.FromHexString("050100" + "01" + "CB007105" + "1A0B"), ProxyHandshake.Socks5Connect("203.0.113.5", 6667));
        Assert.Equal(Convert.FromHexString("050100" + "04" + "00000000000000000000000000000001" + "0019"), ProxyHandshake.Socks5Connect("::1", 25));
        Assert.Equal([5, 1, 0, 3, 2, (byte)'m', (byte)'x', 0, 25], ProxyHandshake.Socks5Connect("mx", 25));
    }

    [Fact]
    public void Gateways_get_the_target_typed_as_a_line()
    {
        Assert.Equal("203.0.113.5:6667\r\n"u8.ToArray(), ProxyHandshake.Wingate("203.0.113.5", 6667));
        Assert.Equal("telnet 203.0.113.5 25\r\n"u8.ToArray(), ProxyHandshake.TelnetGateway("203.0.113.5", 25));
    }
}
