using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;

namespace Portcullis.Server.Remote;

/// <summary>One host to try for a destination, with its addresses in the order to try them.</summary>
public sealed record MxHost(string Name, int Preference, IReadOnlyList<IPAddress> Addresses);

/// <summary>Where mail for a domain goes: the hosts in order of preference, or why nowhere.</summary>
public sealed record MxRoute(IReadOnlyList<MxHost> Hosts, RemoteFailure? Failure)
{
    public static MxRoute Fail(RemoteFailure failure) => new([], failure);
}

/// <summary>
/// Finds the hosts that receive mail for a domain (RFC 5321 §5.1) with DnsClient: MX records by
/// preference (equal preferences in random order), each host's A and AAAA addresses; no MX at all means
/// the domain itself is the host (the "implicit MX"); a null MX ("0 .", RFC 7505) or a non-existent
/// domain is a permanent failure; a DNS timeout or SERVFAIL is temporary. An address literal
/// (user@[192.0.2.1]) names its host directly.
/// </summary>
public sealed class MxResolver
{
    private readonly LookupClient _dns;

    /// <param name="servers">resolvers to ask (delivery.dns_servers); empty = the system's</param>
    public MxResolver(IReadOnlyList<IPEndPoint> servers)
    {
        var options = servers.Count > 0 ? new LookupClientOptions([.. servers]) : new LookupClientOptions();
        options.UseCache = true;
        options.Timeout = TimeSpan.FromSeconds(5);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.UseTcpFallback = true;
        _dns = new LookupClient(options);
    }

    public async Task<MxRoute> ResolveAsync(string domain, CancellationToken ct)
    {
        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            var literal = domain[1..^1];
            if (literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            {
                literal = literal[5..];
            }
            return IPAddress.TryParse(literal, out var ip)
                ? new MxRoute([new MxHost(domain, 0, [ip])], null)
                : MxRoute.Fail(RemoteFailure.Fatal("5.1.2", $"bad address literal {domain}"));
        }

        IDnsQueryResponse mx;
        try
        {
            mx = await _dns.QueryAsync(domain, QueryType.MX, QueryClass.IN, ct).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            return MxRoute.Fail(RemoteFailure.Temporary("4.4.3", $"DNS lookup of MX for {domain} failed: {e.Message}"));
        }
        if (mx.HasError)
        {
            // RFC 5321 §5.1: a domain that does not exist cannot receive mail; anything else may heal.
            return mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                ? MxRoute.Fail(RemoteFailure.Fatal("5.1.2", $"domain {domain} does not exist (DNS NXDOMAIN)"))
                : MxRoute.Fail(RemoteFailure.Temporary("4.4.3", $"DNS lookup of MX for {domain} failed: {mx.ErrorMessage}"));
        }
        var records = mx.Answers.MxRecords().ToList();
        // RFC 7505 §3: a single MX record "0 ." says the domain accepts no mail; §4.3: fail at once (5.1.10).
        if (records.Any(r => IsRoot(r.Exchange)))
        {
            return MxRoute.Fail(RemoteFailure.Fatal("5.1.10", $"domain {domain} accepts no mail (null MX, RFC 7505)"));
        }

        var hosts = new List<MxHost>();
        if (records.Count == 0)
        {
            // RFC 5321 §5.1: no MX records, so the domain itself is the single implicit MX (preference 0).
            var addresses = await AddressesAsync(domain, ct).ConfigureAwait(false);
            if (addresses.Failure is not null)
            {
                return MxRoute.Fail(addresses.Failure);
            }
            if (addresses.List.Count == 0)
            {
                return MxRoute.Fail(RemoteFailure.Fatal("5.1.2", $"domain {domain} has no MX and no address records"));
            }
            hosts.Add(new MxHost(domain, 0, addresses.List));
            return new MxRoute(hosts, null);
        }

        RemoteFailure? lastFailure = null;
        foreach (var group in records.GroupBy(r => r.Preference).OrderBy(g => g.Key))
        {
            // RFC 5321 §5.1: hosts of equal preference are tried in random order to spread the load.
            foreach (var record in group.OrderBy(_ => Random.Shared.Next()))
            {
                var name = record.Exchange.Value.TrimEnd('.');
                var addresses = await AddressesAsync(name, ct).ConfigureAwait(false);
                if (addresses.Failure is not null)
                {
                    lastFailure = addresses.Failure;
                    continue;
                }
                if (addresses.List.Count > 0)
                {
                    hosts.Add(new MxHost(name, record.Preference, addresses.List));
                }
            }
        }
        if (hosts.Count == 0)
        {
            // An MX that names a host without addresses is a fault at the destination that may be fixed.
            return MxRoute.Fail(lastFailure ?? RemoteFailure.Temporary("4.4.3", $"no MX host of {domain} has an address"));
        }
        return new MxRoute(hosts, null);
    }

    private static bool IsRoot(DnsString exchange) => exchange.Value is "." or "";

    private async Task<(IReadOnlyList<IPAddress> List, RemoteFailure? Failure)> AddressesAsync(string host, CancellationToken ct)
    {
        var list = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            IDnsQueryResponse r;
            try
            {
                r = await _dns.QueryAsync(host, type, QueryClass.IN, ct).ConfigureAwait(false);
            }
            catch (DnsResponseException e)
            {
                return ([], RemoteFailure.Temporary("4.4.3", $"DNS lookup of {type} for {host} failed: {e.Message}"));
            }
            if (r.HasError)
            {
                if (r.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
                {
                    return ([], null);
                }
                return ([], RemoteFailure.Temporary("4.4.3", $"DNS lookup of {type} for {host} failed: {r.ErrorMessage}"));
            }
            list.AddRange(r.Answers.OfType<AddressRecord>().Select(a => a.Address).Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6));
        }
        return (list, null);
    }
}
