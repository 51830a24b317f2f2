using Portcullis.Server.Policy;

namespace Portcullis.Server.Tests.Policy;

public class RecipientPolicyGoldenTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in RelayVectors.Load())
        {
            data.Add(c.ToString());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_golden_case_gets_its_reply_and_rule(string name)
    {
        var c = RelayVectors.Load().Single(x => x.ToString() == name);
        var (decision, _, _) = RecipientPolicy.DecideText(RelayVectors.ClientFor(c.Client), c.Argument, RelayVectors.Directory, RelayVectors.Roles);
        Assert.Equal((c.Code, c.Enhanced, c.Rule), (decision.Reply.Code, decision.Reply.Enhanced, decision.Rule));
    }

    [Fact]
    public void The_table_covers_every_nmap_vector_and_none_of_them_relays_for_an_untrusted_client()
    {
        var untrusted = RelayVectors.Load().Where(c => c.Client is "mx" or "mx-lan").ToList();
        Assert.True(untrusted.Count >= 60, "the golden table lost cases");
        foreach (var c in untrusted)
        {
            var (decision, _, _) = RecipientPolicy.DecideText(RelayVectors.ClientFor(c.Client), c.Argument, RelayVectors.Directory, RelayVectors.Roles);
            if (decision.Accepted)
            {
                Assert.Equal(RecipientRoute.Local, decision.Route);
                Assert.EndsWith("@example.test", decision.DeliverTo);
            }
        }
    }

    [Fact]
    public void Only_refusals_for_a_missing_user_or_a_domain_that_is_not_local_are_marked_for_lack_of_entry()
    {
        // The session decides these again after its directory view catches up (a user or domain just added);
        // an address literal, a source route or a syntax error would be refused whatever the directory held.
        foreach (var c in RelayVectors.Load())
        {
            var (decision, _, _) = RecipientPolicy.DecideText(RelayVectors.ClientFor(c.Client), c.Argument, RelayVectors.Directory, RelayVectors.Roles);
            Assert.True((decision.Rule is "unknown-user" or "relay-denied") == decision.ForLackOfEntry, $"{c}: rule {decision.Rule}, marked {decision.ForLackOfEntry}");
        }
    }

    [Fact]
    public void Trusted_network_on_the_mx_listener_still_cannot_relay()
    {
        var client = RelayVectors.ClientFor("mx-lan");
        Assert.False(client.MayRelay);
    }

    [Fact]
    public void Helo_is_not_an_input_of_the_decision()
    {
        // The decision's inputs are the client facts, the path and the directory. ClientFacts has no HELO
        // field at all, so no HELO value (catalog §1.4 "HELO spoofing") can grant relaying.
        Assert.DoesNotContain(typeof(ClientFacts).GetProperties(), p => p.Name.Contains("Helo", StringComparison.OrdinalIgnoreCase));
    }
}
