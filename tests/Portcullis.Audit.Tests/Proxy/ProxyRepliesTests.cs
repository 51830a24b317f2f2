using Portcullis.Audit.Proxy;

namespace Portcullis.Audit.Tests.Proxy;

public class ProxyRepliesTests
{
    [Fact]
    public void Http_head_gives_code_status_line_and_body_offset()
    {
        var data = "HTTP/1.1 200 Connection established\r\nVia: squid\r\n\r\n220 mx ESMTP\r\n"u8;
        Assert.True(ProxyReplies.TryParseHttpHead(data, out var head, out var notHttp));
        Assert.False(notHttp);
        Assert.Equal(200, head.Code);
        Assert.Equal("HTTP/1.1 200 Connection established", head.StatusLine);
        Assert.Equal("220 mx ESMTP\r\n", System.Text.Encoding.ASCII.GetString(data[head.BodyOffset..]));
    }

    [Fact]
    public void Incomplete_http_head_waits_and_other_protocols_are_told_apart()
    {
        Assert.False(ProxyReplies.TryParseHttpHead("HTTP/1.0 403 Forb"u8, out _, out var notHttp));
        Assert.False(notHttp);
        Assert.False(ProxyReplies.TryParseHttpHead("HT"u8, out _, out notHttp));
        Assert.False(notHttp);
        Assert.False(ProxyReplies.TryParseHttpHead("220 mx ESMTP\r\n"u8, out _, out notHttp));
        Assert.True(notHttp);
        Assert.False(ProxyReplies.TryParseHttpHead(new byte[] { 5, 0xFF }, out _, out notHttp));
        Assert.True(notHttp);
    }

    [Theory]
    [InlineData("005A000000000000", true, 0x5A)]
    [InlineData("005B000000000000", false, 0x5B)]
    [InlineData("005C000000000000", false, 0x5C)]
    [InlineData("045A000000000000", true, 0x5A)]
    public void Socks4_reply_codes_are_decoded(string hex, bool granted, byte code)
    {
        Assert.True(ProxyReplies.TryParseSocks4(Convert.FromHexString(hex), out var r, out _));
        Assert.Equal(granted, r.Granted);
        Assert.Equal(code, r.Code);
    }

    [Fact]
    public void A_socks5_refusal_to_a_socks4_request_is_not_a_socks4_reply()
    {
        // microsocks answers a SOCKS4 request with 05 FF (proxy-peers table).
        Assert.False(ProxyReplies.TryParseSocks4(new byte[] { 0x05, 0xFF }, out _, out var not));
        Assert.True(not);
        Assert.False(ProxyReplies.TryParseSocks4("HTTP/1.1 400"u8, out _, out not));
        Assert.True(not);
    }

    [Theory]
    [InlineData("0500", 0x00)]
    [InlineData("0502", 0x02)]
    [InlineData("05FF", 0xFF)]
    public void Socks5_method_selection_is_decoded(string hex, byte method)
    {
        Assert.True(ProxyReplies.TryParseSocks5Method(Convert.FromHexString(hex), out var m, out _));
        Assert.Equal(method, m);
    }

    [Fact]
    public void Socks5_reply_length_follows_the_address_type()
    {
        Assert.True(ProxyReplies.TryParseSocks5Reply(Convert.FromHexString("05000001000000000000"), out var rep, out var len, out _));
        Assert.Equal((0, 10), (rep, len));
        Assert.False(ProxyReplies.TryParseSocks5Reply(Convert.FromHexString("0500000400"), out _, out _, out _));
        Assert.True(ProxyReplies.TryParseSocks5Reply(Convert.FromHexString("050000030278780019"), out _, out len, out _));
        Assert.Equal(9, len);
        Assert.True(ProxyReplies.TryParseSocks5Reply(Convert.FromHexString("0502"), out rep, out _, out _));
        Assert.Equal(2, rep);
        Assert.Equal("connection not allowed by ruleset", ProxyReplies.Socks5ReplyMeaning(rep));
    }
}
