using System.Net;
using Portcullis.Server.Remote;

namespace Portcullis.Server.Tests.Remote;

/// <summary>MX resolution (RFC 5321 §5.1, RFC 7505) against the real test DNS server.</summary>
[Collection(RemoteWorldCollection.Name)]
public sealed class MxResolverTests(RemoteWorld world)
{
    private MxResolver Resolver => new([world.Dns.Endpoint]);

    [Fact]
    public async Task Mx_hosts_come_in_order_of_preference_with_their_addresses()
    {
        var route = await Resolver.ResolveAsync("backup.test", CancellationToken.None);
        Assert.Null(route.Failure);
        Assert.Equal([("dead.backup.test", 10, "127.0.5.99"), ("mx.remote.test", 20, RemoteWorld.MxAddress)],
            route.Hosts.Select(h => (h.Name, h.Preference, h.Addresses.Single().ToString())));
    }

    [Fact]
    public async Task A_domain_without_mx_is_its_own_mail_host()
    {
        var host = Assert.Single((await Resolver.ResolveAsync("implicit.test", CancellationToken.None)).Hosts);
        Assert.Equal(("implicit.test", RemoteWorld.MxAddress), (host.Name, host.Addresses.Single().ToString()));
    }

    [Theory]
    [InlineData("nullmx.test", "5.1.10")]
    [InlineData("no-such-domain.test", "5.1.2")]
    public async Task Null_mx_and_nonexistent_domains_fail_permanently(string domain, string status)
    {
        var failure = (await Resolver.ResolveAsync(domain, CancellationToken.None)).Failure;
        Assert.NotNull(failure);
        Assert.Equal((true, status), (failure.Permanent, failure.Status));
    }

    [Fact]
    public async Task An_unanswering_resolver_is_a_temporary_failure()
    {
        var failure = (await new MxResolver([new IPEndPoint(IPAddress.Parse("127.0.5.99"), 10053)]).ResolveAsync("remote.test", CancellationToken.None)).Failure;
        Assert.NotNull(failure);
        Assert.False(failure.Permanent);
    }

    [Fact]
    public async Task An_address_literal_names_its_host()
    {
        var host = Assert.Single((await Resolver.ResolveAsync("[192.0.2.7]", CancellationToken.None)).Hosts);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), host.Addresses.Single());
    }
}
