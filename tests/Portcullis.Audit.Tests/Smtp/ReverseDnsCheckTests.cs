using System.Net;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp.Checks;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>Judging reverse DNS (catalog §4): PTR present, forward-confirmed, and the greeting's names.</summary>
public sealed class ReverseDnsCheckTests
{
    private static readonly IPAddress Addr = IPAddress.Parse("192.0.2.25");

    private static ReverseDnsCheck.Lookup L(string[] ptr, params (string Name, string[] Addrs)[] forward) =>
        new(ptr, forward.ToDictionary(f => f.Name, f => (IReadOnlyList<IPAddress>)f.Addrs.Select(IPAddress.Parse).ToList(), StringComparer.OrdinalIgnoreCase));

    [Fact]
    public void A_missing_ptr_fails_with_the_reverse_name_and_a_fix()
    {
        var f = ReverseDnsCheck.Judge(Addr, L([]), "mx.example.net", "mx.example.net", 25);
        Assert.Equal(CheckStatus.Fail, f.Status);
        Assert.Equal(Severity.Low, f.Severity);
        Assert.Contains("25.2.0.192.in-addr.arpa", f.Summary);
        Assert.Equal(FixTopic.ReverseDns, f.Topic);
    }

    [Fact]
    public void A_ptr_whose_name_does_not_resolve_back_fails()
    {
        var f = ReverseDnsCheck.Judge(Addr, L(["mx.example.net"], ("mx.example.net", ["192.0.2.99"])), "mx.example.net", "mx.example.net", 25);
        Assert.Equal(CheckStatus.Fail, f.Status);
        Assert.Contains("not forward-confirmed: mx.example.net -> 192.0.2.99", f.Summary);
        var none = ReverseDnsCheck.Judge(Addr, L(["mx.example.net"], ("mx.example.net", [])), null, null, 25);
        Assert.Contains("mx.example.net -> no address", none.Summary);
    }

    [Fact]
    public void A_forward_confirmed_ptr_matching_the_greeting_passes_whatever_the_case_and_trailing_dot()
    {
        var f = ReverseDnsCheck.Judge(Addr, L(["MX.Example.NET"], ("MX.Example.NET", ["192.0.2.7", "192.0.2.25"])), "mx.example.net", "mx.example.net.", 25);
        Assert.Equal(CheckStatus.Pass, f.Status);
        Assert.DoesNotContain("warning", f.Summary);
        Assert.Contains("matches the greeting and EHLO name", f.Summary);
    }

    [Fact]
    public void A_greeting_name_other_than_the_ptr_is_a_warning_with_a_fix_not_a_failure()
    {
        var f = ReverseDnsCheck.Judge(Addr, L(["host-25.isp.example"], ("host-25.isp.example", ["192.0.2.25"])), "mx.example.net", "mx.example.net", 25);
        Assert.Equal(CheckStatus.Pass, f.Status);
        Assert.StartsWith("warning:", f.Summary);
        Assert.Contains("greeting name mx.example.net", f.Summary);
        Assert.Equal(FixTopic.ReverseDns, f.Topic);
        Assert.NotNull(f.ToResult(Portcullis.Audit.Fingerprint.SmtpSoftware.Postfix).Fix);
    }

    [Fact]
    public void A_greeting_without_a_host_name_is_not_compared()
    {
        var f = ReverseDnsCheck.Judge(Addr, L(["mx.example.net"], ("mx.example.net", ["192.0.2.25"])), "ESMTP", "[192.0.2.25]", 25);
        Assert.Equal(CheckStatus.Pass, f.Status);
        Assert.Contains("no host name to compare", f.Summary);
    }

    [Fact]
    public void One_confirmed_name_among_several_ptrs_is_enough()
    {
        var f = ReverseDnsCheck.Judge(Addr, L(["old.example.net", "mx.example.net"], ("old.example.net", []), ("mx.example.net", ["192.0.2.25"])), "mx.example.net", "mx.example.net", 25);
        Assert.Equal(CheckStatus.Pass, f.Status);
        Assert.DoesNotContain("warning", f.Summary);
    }

    [Theory]
    [InlineData("192.0.2.25", "25.2.0.192.in-addr.arpa")]
    // RFC 3596 §2.5's example address.
    [InlineData("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")]
    [InlineData("::ffff:192.0.2.25", "25.2.0.192.in-addr.arpa")]
    public void Reverse_names_follow_in_addr_and_ip6_arpa(string address, string expected) =>
        Assert.Equal(expected, ReverseDnsCheck.ReverseName(IPAddress.Parse(address)));

    [Theory]
    [InlineData("127.0.1.141", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.0.9", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("192.0.2.25", true)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::25", false)]
    [InlineData("2001:db8::25", true)]
    public void Only_public_addresses_are_checked_against_the_system_resolver(string address, bool expected) =>
        Assert.Equal(expected, ReverseDnsCheck.IsPublic(IPAddress.Parse(address)));
}
