using Portcullis.Audit.Canary;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp;
using Portcullis.Audit.Smtp.Checks;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class RelayFindingsTests
{
    private static RelayVector V(string id, string rcpt = "<x@dest.test>", string? token = null) =>
        new(id, "trick " + id, "test", null, "<a@dest.test>", rcpt) { Token = token };

    private static RelayOutcome O(RelayVector v, RelayVerdict verdict, bool taken = false) =>
        new(v, verdict, verdict.ToString(), "C: ...", false) { MessageAccepted = taken };

    private static RelayFindings.CanaryLookup Arrived(params string[] tokens) =>
        t => (tokens.Contains(t), tokens.Contains(t) ? [new SmtpCanaryHit(t, true, System.Net.IPAddress.Loopback, "<>", [$"<{t}@dest.test>"], DateTimeOffset.UtcNow)] : []);

    [Fact]
    public void All_refused_is_closed()
    {
        var r = RelayFindings.Build([O(V("a"), RelayVerdict.Refused), O(V("b"), RelayVerdict.Refused)], null, 25);
        Assert.Equal(Verdict.Closed, r.Verdict);
        Assert.All(r.Findings, f => Assert.Equal(CheckStatus.Pass, f.Status));
    }

    [Fact]
    public void A_token_that_arrived_makes_the_target_open_and_the_vector_failed()
    {
        var v = V("nmap-06.example.test", "<pc1%dest.test@example.test>", "pc1");
        var r = RelayFindings.Build([O(v, RelayVerdict.Accepted, taken: true), O(V("b"), RelayVerdict.Refused)], Arrived("pc1"), 25);
        Assert.Equal(Verdict.Open, r.Verdict);
        Assert.Contains("trick nmap-06", r.Reason);
        var f = r.Findings.Single(x => x.Id == "relay.nmap-06.example.test");
        Assert.Equal(CheckStatus.Fail, f.Status);
        Assert.Equal(FixTopic.RoutingTrick, f.Topic);
    }

    [Fact]
    public void Accepted_without_canary_is_not_proven_and_inconclusive()
    {
        var r = RelayFindings.Build([O(V("a"), RelayVerdict.Accepted)], null, 25);
        Assert.Equal(Verdict.Inconclusive, r.Verdict);
        Assert.StartsWith("accepts relay recipients (not proven)", r.Findings[0].Summary);
        Assert.Equal(CheckStatus.Inconclusive, r.Findings[0].Status);
    }

    [Fact]
    public void Accepted_with_canary_but_no_token_is_delivery_not_seen()
    {
        var r = RelayFindings.Build([O(V("a", token: "pc2"), RelayVerdict.Accepted, taken: true)], Arrived(), 25);
        Assert.Equal(Verdict.Inconclusive, r.Verdict);
        Assert.Contains("delivery not seen", r.Reason);
    }

    [Fact]
    public void No_outcome_at_all_is_inconclusive_not_closed() =>
        Assert.Equal(Verdict.Inconclusive, RelayFindings.Build([], null, 25).Verdict);

    [Fact]
    public void A_deferral_or_no_answer_is_never_closed()
    {
        var r = RelayFindings.Build([O(V("a"), RelayVerdict.Inconclusive), O(V("b"), RelayVerdict.Refused)], null, 25);
        Assert.Equal(Verdict.Inconclusive, r.Verdict);
    }

    [Fact]
    public void A_vector_counts_its_worst_run_plain_or_over_tls()
    {
        var v = V("a", token: "pc3");
        var tlsRun = new RelayOutcome(v with { Token = "pc4" }, RelayVerdict.Accepted, "ok", "C: ...", true) { MessageAccepted = true };
        var r = RelayFindings.Build([O(v, RelayVerdict.Refused), tlsRun], Arrived("pc4"), 25);
        Assert.Equal(Verdict.Open, r.Verdict);
        Assert.Single(r.Findings);
        Assert.Contains("STARTTLS", r.Findings[0].Summary);
    }

    [Fact]
    public void Plain_relay_open_means_every_failure_gets_the_open_relay_fix()
    {
        var plain = V("nmap-02", token: "pc5");
        var route = V("nmap-12", "<@[192.0.2.1]:pc6@dest.test>", "pc6");
        var r = RelayFindings.Build([O(plain, RelayVerdict.Accepted, true), O(route, RelayVerdict.Accepted, true)], Arrived("pc5", "pc6"), 25);
        Assert.All(r.Findings, f => Assert.Equal(FixTopic.OpenRelay, f.Topic));
    }

    [Theory]
    [InlineData("<x%d.test@h.test>", FixTopic.RoutingTrick)]
    [InlineData("<d.test!x>", FixTopic.RoutingTrick)]
    [InlineData("<\"x@d.test\">", FixTopic.RoutingTrick)]
    [InlineData("<x@d.test@h.test>", FixTopic.RoutingTrick)]
    [InlineData("<@h.test:x@d.test>", FixTopic.RoutingTrick)]
    [InlineData("<x@d.test>", FixTopic.OpenRelay)]
    public void Fix_topic_follows_the_trick(string rcpt, FixTopic topic) =>
        Assert.Equal(topic, RelayFindings.TopicOf(V("nmap-02", rcpt)));
}
