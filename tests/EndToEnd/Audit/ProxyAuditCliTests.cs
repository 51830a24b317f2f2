using Portcullis.Audit.Tests.Proxy;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>`portcullis audit proxy` usage: clear errors with exit code 2, text report, help.</summary>
public class ProxyAuditCliTests
{
    [Fact]
    public async Task Without_a_canary_or_through_to_the_audit_refuses_with_exit_2()
    {
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["audit", "proxy", "127.0.3.40:3128"]);
        Assert.Equal(2, code);
        Assert.Contains("--canary-listen", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout.Trim());
    }

    [Fact]
    public async Task Factory_password_types_need_try_default_passwords_and_exit_2_without_it()
    {
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(
            ["audit", "proxy", "127.0.6.22:23", "--protocols", "cisco-router", "--canary-listen", "127.0.6.23:0"]);
        Assert.Equal(2, code);
        Assert.Contains("--try-default-passwords", stderr, StringComparison.Ordinal);
        Assert.Contains("written authorisation", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout.Trim());
    }

    [Theory]
    [InlineData("127.0.3.0/24")]
    [InlineData("not a host!")]
    public async Task Bad_targets_exit_2_with_the_reason(string target)
    {
        var (code, _, stderr) = await PortcullisProcess.RunAsync(["audit", "proxy", target, "--canary-listen", "127.0.3.41:0"]);
        Assert.Equal(2, code);
        Assert.Contains(target.Split('/')[0], stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_real_socks5_proxy_is_reported_open_in_the_text_report_with_exit_1()
    {
        await using var socks = new LoopbackServer("127.0.3.42", port: 0, handler: LoopbackServer.OpenSocks5);
        var (code, stdout, _) = await PortcullisProcess.RunAsync(
            ["audit", "proxy", $"127.0.3.42:{socks.EndPoint.Port}", "--canary-listen", "127.0.3.43:0", "--timeout", "2", "-v"]);
        Assert.Equal(1, code);
        Assert.Contains("OPEN PROXY", stdout, StringComparison.Ordinal);
        Assert.Contains("proxy.socks5", stdout, StringComparison.Ordinal);
        Assert.Contains("Fix:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_names_every_proxy_type_and_the_proof_options()
    {
        var (code, stdout, _) = await PortcullisProcess.RunAsync(["audit", "proxy", "--help"]);
        Assert.Equal(0, code);
        foreach (var word in new[] { "--canary-listen", "--through-to", "--ports", "--json", "socks4a", "telnet-gateway", "grants but did not connect" })
        {
            Assert.Contains(word, stdout, StringComparison.Ordinal);
        }
    }
}
