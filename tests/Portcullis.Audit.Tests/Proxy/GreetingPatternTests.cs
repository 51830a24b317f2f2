using Portcullis.Audit.Proxy;

namespace Portcullis.Audit.Tests.Proxy;

public class GreetingPatternTests
{
    [Fact]
    public void Words_that_differ_between_direct_reads_may_differ_through_the_proxy()
    {
        Assert.True(GreetingPattern.TryLearn("220 smtp.canary.test ESMTP TOKEN1 peer=127.0.0.1:40001", "220 smtp.canary.test ESMTP TOKEN1 peer=127.0.0.1:40002", out var p, out _));
        Assert.True(p.Matches("220 smtp.canary.test ESMTP TOKEN1 peer=198.51.100.7:5555"));
        Assert.False(p.Matches("220 smtp.canary.test ESMTP TOKEN2 peer=198.51.100.7:5555"));
        Assert.False(p.Matches("220 other.host ESMTP TOKEN1 peer=127.0.0.1:1"));
    }

    [Fact]
    public void Any_other_servers_220_is_not_the_greeting()
    {
        Assert.True(GreetingPattern.TryLearn("220 mx.example.org ESMTP Postfix (Debian)", "220 mx.example.org ESMTP Postfix (Debian)", out var p, out _));
        Assert.False(p.Matches("220 honeypot.example ESMTP Postfix (Debian)"));
        Assert.False(p.Matches("HTTP/1.0 200 OK"));
        Assert.True(p.Matches("220 mx.example.org ESMTP Postfix (Debian)\r"));
    }

    [Fact]
    public void A_greeting_without_stable_text_or_not_220_is_refused()
    {
        Assert.False(GreetingPattern.TryLearn("554 go away", "554 go away", out _, out var error));
        Assert.Contains("not a 220", error, StringComparison.Ordinal);
        Assert.False(GreetingPattern.TryLearn("220 a1", "220 b2", out _, out error));
        Assert.Contains("too little stable text", error, StringComparison.Ordinal);
    }
}
