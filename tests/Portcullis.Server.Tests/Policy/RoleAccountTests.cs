using System.Net;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;

namespace Portcullis.Server.Tests.Policy;

/// <summary>Where postmaster@ and abuse@ go when server.postmaster is not one of the directory's users.</summary>
public class RoleAccountTests
{
    private static readonly DirectorySnapshot Directory = new(["example.test"], ["alice@example.test"], []);
    private static readonly ClientFacts Internet = new(IPAddress.Parse("203.0.113.9"), ListenerKind.Mx, false, null, false);

    private static RecipientDecision Decide(string rcpt, string postmaster) =>
        RecipientPolicy.DecideText(Internet, rcpt, Directory, new RoleAccounts(postmaster, "mx.example.test")).Decision;

    [Theory]
    [InlineData("<postmaster@example.test>")]
    [InlineData("<abuse@example.test>")]
    [InlineData("<Postmaster>")]
    [InlineData("<postmaster@mx.example.test>")]
    public void A_postmaster_in_a_local_domain_without_a_user_gets_a_local_mailbox_of_its_own(string rcpt)
    {
        var d = Decide(rcpt, "postmaster@example.test");
        Assert.True(d.Accepted);
        Assert.Equal(("postmaster@example.test", RecipientRoute.Local), (d.DeliverTo, d.Route));
    }

    [Fact]
    public void A_postmaster_that_is_a_user_gets_the_users_mailbox()
    {
        var d = Decide("<abuse@example.test>", "Alice@Example.Test");
        Assert.Equal(("alice@example.test", RecipientRoute.Local), (d.DeliverTo, d.Route));
    }

    [Fact]
    public void A_postmaster_configured_elsewhere_is_forwarded_there_and_only_there()
    {
        var d = Decide("<postmaster@example.test>", "hostmaster@provider.example");
        Assert.Equal(("hostmaster@provider.example", RecipientRoute.Remote), (d.DeliverTo, d.Route));
        // The forwarding is the configuration's, not the client's: any other foreign address is still refused.
        Assert.Equal("relay-denied", Decide("<hostmaster@provider.example>", "hostmaster@provider.example").Rule);
    }
}
