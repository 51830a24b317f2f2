using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Tests.Proxy;

public class ProxyVerdictTests
{
    private static ProbeOutcome O(ProbeResult r, ProxyProtocol p = ProxyProtocol.HttpConnect, int port = 3128) => new(p, port, "canary", r, r.ToString(), "");

    [Fact]
    public void One_proven_protocol_makes_the_target_open()
    {
        Assert.Equal(Verdict.Open, ProxyVerdict.Decide([O(ProbeResult.Refused), O(ProbeResult.Proven, ProxyProtocol.Socks5, 1080), O(ProbeResult.NoAnswer)], out var why));
        Assert.Contains("socks5 on port 1080", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProbeResult.GrantedNoConnect)]
    [InlineData(ProbeResult.Refused)]
    [InlineData(ProbeResult.AuthRequired)]
    [InlineData(ProbeResult.ConnectionClosed)]
    [InlineData(ProbeResult.OtherProtocol)]
    public void Refusals_auth_demands_closed_connections_and_grants_without_a_connection_are_closed(ProbeResult r) =>
        Assert.Equal(Verdict.Closed, ProxyVerdict.Decide([O(r), O(ProbeResult.NoAnswer)], out _));

    [Fact]
    public void A_grant_without_a_connection_is_never_open_and_is_named_in_the_reason()
    {
        Assert.Equal(Verdict.Closed, ProxyVerdict.Decide([O(ProbeResult.GrantedNoConnect), O(ProbeResult.GrantedNoConnect, ProxyProtocol.HttpGet)], out var why));
        Assert.Contains("granted but did not connect", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_silence_is_inconclusive()
    {
        Assert.Equal(Verdict.Inconclusive, ProxyVerdict.Decide([O(ProbeResult.NoAnswer), O(ProbeResult.Unreachable)], out _));
        Assert.Equal(Verdict.Inconclusive, ProxyVerdict.Decide([O(ProbeResult.Unreachable)], out var why));
        Assert.Contains("not tested", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_is_a_fail_with_the_fix_when_proven_and_silence_is_skipped_on_a_conclusive_target()
    {
        var fail = ProxyVerdict.CheckFor(ProxyProtocol.Socks5, 1080, [O(ProbeResult.Refused, ProxyProtocol.Socks5, 1080), O(ProbeResult.Proven, ProxyProtocol.Socks5, 1080)], true);
        Assert.Equal(CheckStatus.Fail, fail.Status);
        Assert.Equal("proxy.socks5", fail.Id);
        Assert.Equal(1080, fail.Port);
        Assert.NotNull(fail.Fix);
        Assert.Equal(CheckStatus.Skipped, ProxyVerdict.CheckFor(ProxyProtocol.Socks4, 3128, [O(ProbeResult.NoAnswer)], true).Status);
        Assert.Equal(CheckStatus.Inconclusive, ProxyVerdict.CheckFor(ProxyProtocol.Socks4, 3128, [O(ProbeResult.NoAnswer)], false).Status);
        Assert.Equal(CheckStatus.Pass, ProxyVerdict.CheckFor(ProxyProtocol.HttpConnect, 8080, [O(ProbeResult.GrantedNoConnect)], true).Status);
    }
}
