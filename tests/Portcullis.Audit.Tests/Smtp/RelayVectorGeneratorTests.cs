using Portcullis.Audit.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class RelayVectorGeneratorTests
{
    private static readonly TargetNames Names = TargetNames.From("127.0.0.22", "gw.tricky.test", "gw.tricky.test", "[127.0.0.22]");

    [Fact]
    public void Target_names_are_banner_host_and_its_parent_domains_but_never_a_bare_tld()
    {
        Assert.Equal(["gw.tricky.test", "tricky.test"], Names.Hosts);
        var typed = TargetNames.From("MX.Example.NET", "mx1.example.net", null, "[192.0.2.1]");
        Assert.Equal(["mx.example.net", "example.net", "mx1.example.net"], typed.Hosts);
    }

    [Fact]
    public void All_sixteen_nmap_tests_are_generated_with_the_targets_names()
    {
        var v = RelayVectorGenerator.Generate(Names, "relay-test.invalid");
        Assert.Contains(v, x => x.Id == "nmap-01" && x.MailFrom == "<>" && x.RcptTo == "<relaytest@relay-test.invalid>");
        Assert.Contains(v, x => x.Id == "nmap-05" && x.RcptTo == "<relaytest%relay-test.invalid@[127.0.0.22]>");
        Assert.Contains(v, x => x.Id == "nmap-06.tricky.test" && x.RcptTo == "<relaytest%relay-test.invalid@tricky.test>");
        Assert.Contains(v, x => x.Id == "nmap-13.gw.tricky.test" && x.RcptTo == "<@gw.tricky.test:relaytest@relay-test.invalid>");
        Assert.Contains(v, x => x.Id == "nmap-14" && x.RcptTo == "<relay-test.invalid!relaytest>");
        for (var n = 1; n <= 16; n++)
        {
            Assert.Contains(v, x => x.Id.StartsWith($"nmap-{n:00}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Dsbl_cross_product_and_rfc822_recipient_without_brackets_are_present()
    {
        var v = RelayVectorGenerator.Generate(Names, "relay-test.invalid");
        // 4 x 4 = 16, minus null sender to plain recipient, which is nmap's test 1 and is sent once.
        Assert.Equal(15, v.Count(x => x.Id.StartsWith("dsbl-", StringComparison.Ordinal) && !x.Id.StartsWith("dsbl-d-", StringComparison.Ordinal)));
        Assert.DoesNotContain(v, x => x.Id == "dsbl-null-plain");
        Assert.Contains(v, x => x.Id == "dsbl-null-nobrackets" && x.MailFrom == "<>" && x.RcptTo == "relaytest@relay-test.invalid");
        Assert.Contains(v, x => x.Id == "dsbl-d-percent.localhost" && x.RcptTo == "<relaytest%relay-test.invalid@localhost>");
        Assert.Contains(v, x => x.Id == "dsbl-d-route.127.0.0.1" && x.RcptTo == "<@[127.0.0.1]:relaytest@relay-test.invalid>");
    }

    [Fact]
    public void Helo_spoofing_vectors_carry_their_own_ehlo_name()
    {
        var v = RelayVectorGenerator.Generate(Names, "relay-test.invalid");
        Assert.Contains(v, x => x.Helo == "localhost.localdomain");
        Assert.Contains(v, x => x.Helo == "[127.0.0.22]");
        Assert.Contains(v, x => x.Helo == "gw.tricky.test");
    }

    [Fact]
    public void Identical_vectors_are_sent_once()
    {
        var v = RelayVectorGenerator.Generate(Names, "relay-test.invalid");
        var keys = v.Select(x => $"{x.Helo}|{x.MailFrom}|{x.RcptTo}").ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(v.Count, v.Select(x => x.Id).Distinct().Count());
    }

    [Fact]
    public void With_a_canary_every_vector_has_its_own_token_in_the_recipient_local_part()
    {
        var n = 0;
        var v = RelayVectorGenerator.Generate(Names, "canary.example", () => $"pc{n++:x12}");
        Assert.All(v, x =>
        {
            Assert.NotNull(x.Token);
            Assert.Contains(x.Token!, x.RcptTo);
            Assert.Contains("canary.example", x.RcptTo, StringComparison.OrdinalIgnoreCase);
        });
        Assert.Equal(v.Count, v.Select(x => x.Token).Distinct().Count());
    }

    [Fact]
    public void Without_a_canary_the_destination_is_a_reserved_domain_that_cannot_route()
    {
        Assert.EndsWith(".invalid", SmtpAuditOptions.NonRoutableDestination);
        Assert.Equal(SmtpAuditOptions.NonRoutableDestination, new SmtpAuditOptions().RelayDestination);
    }
}
