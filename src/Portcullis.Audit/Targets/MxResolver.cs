using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;

namespace Portcullis.Audit.Targets;

/// <summary>One mail exchanger of a domain, with the addresses it resolved to.</summary>
public sealed record MxHost(string Host, int Preference, IReadOnlyList<IPAddress> Addresses, bool Implicit = false);

/// <summary>
/// Finds the mail servers of a domain: its MX hosts in preference order (RFC 5321 §5.1), or the domain
/// itself as an implicit MX when it has no MX record but has an address. A "null MX" (RFC 7505, a single
/// MX with the name ".") means the domain accepts no mail: the answer is an empty list.
/// Uses the system's resolvers, or the one named with --dns-server (tests point it at a loopback DNS).
/// </summary>
public sealed class MxResolver
{
    private readonly LookupClient _client;

    public MxResolver(IPEndPoint? dnsServer = null, TimeSpan? timeout = null)
    {
        var options = dnsServer is null ? new LookupClientOptions() : new LookupClientOptions(new NameServer(dnsServer));
        options.UseCache = true;
        options.Timeout = timeout ?? TimeSpan.FromSeconds(5);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        options.UseTcpFallback = true;
        _client = new LookupClient(options);
    }

    /// <summary>Parses "ADDR[:PORT]" or "[IPv6]:PORT" (port 53 by default) as given to --dns-server.</summary>
    public static IPEndPoint ParseServer(string text)
    {
        var t = text.Trim();
        // IPAddress.TryParse accepts "[::1]:5353" and drops the port: bracketed forms are handled below.
        if (!t.StartsWith('[') && IPAddress.TryParse(t, out var bare))
        {
            return new IPEndPoint(bare, 53); // "127.0.0.1" or "::1": no port given
        }
        var colon = t.LastIndexOf(':');
        if (colon > 0 && int.TryParse(t.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            && IPAddress.TryParse(t[..colon].Trim('[', ']'), out var addr))
        {
            return new IPEndPoint(addr, port);
        }
        if (t.StartsWith('[') && t.EndsWith(']') && IPAddress.TryParse(t[1..^1], out var v6))
        {
            return new IPEndPoint(v6, 53);
        }
        throw new FormatException($"not a DNS server address: '{text}' (expected ADDR, ADDR:PORT or [IPv6]:PORT)");
    }

    /// <summary>The MX hosts of <paramref name="domain"/>, best preference first, each with its addresses.</summary>
    public async Task<IReadOnlyList<MxHost>> ResolveAsync(string domain, CancellationToken ct = default)
    {
        var name = domain.TrimEnd('.');
        var mx = await _client.QueryAsync(name, QueryType.MX, cancellationToken: ct).ConfigureAwait(false);
        if (mx.HasError && mx.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new DnsLookupException($"MX lookup for {name} failed: {mx.ErrorMessage}");
        }
        var records = mx.Answers.MxRecords().OrderBy(r => r.Preference).ThenBy(r => r.Exchange.Value, StringComparer.OrdinalIgnoreCase).ToList();
        if (records.Count == 1 && records[0].Exchange.Value is "." or "")
        {
            return []; // RFC 7505 null MX: no mail accepted
        }
        if (records.Count == 0)
        {
            // RFC 5321 §5.1: no MX record, so the domain itself is the implicit MX.
            var addrs = await ResolveAddressesAsync(name, ct).ConfigureAwait(false);
            return addrs.Count == 0 ? [] : [new MxHost(name, 0, addrs, Implicit: true)];
        }
        var hosts = new List<MxHost>();
        foreach (var r in records)
        {
            var host = r.Exchange.Value.TrimEnd('.');
            var addrs = await ResolveAddressesAsync(host, ct).ConfigureAwait(false);
            hosts.Add(new MxHost(host, r.Preference, addrs));
        }
        return hosts;
    }

    /// <summary>The IPv4 and IPv6 addresses of a host name through the same resolver (an IP literal is returned as is).</summary>
    public async Task<IReadOnlyList<IPAddress>> ResolveAddressesAsync(string host, CancellationToken ct = default)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }
        var result = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var q = await _client.QueryAsync(host, type, cancellationToken: ct).ConfigureAwait(false);
            result.AddRange(q.Answers.ARecords().Select(a => a.Address));
            result.AddRange(q.Answers.AaaaRecords().Select(a => a.Address));
        }
        return result.Distinct().ToList();
    }

    /// <summary>
    /// The PTR names of <paramref name="address"/> (in-addr.arpa / ip6.arpa, RFC 1035 §3.5, RFC 3596 §2.5),
    /// without the trailing dot; empty when the name does not exist or has no PTR. A failed lookup (server
    /// failure, refusal) throws <see cref="DnsLookupException"/>; a timeout throws DnsClient's DnsResponseException.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResolvePtrAsync(IPAddress address, CancellationToken ct = default)
    {
        var q = await _client.QueryReverseAsync(address, ct).ConfigureAwait(false);
        if (q.HasError && q.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new DnsLookupException($"PTR lookup for {address} failed: {q.ErrorMessage}");
        }
        return q.Answers.PtrRecords().Select(p => p.PtrDomainName.Value.TrimEnd('.')).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public override string ToString() => "MxResolver(" + string.Join(", ", _client.NameServers.Select(n => n.ToString())) + ")";
}

/// <summary>A DNS lookup that failed (server failure, timeout), as opposed to "no such record".</summary>
public sealed class DnsLookupException(string message) : Exception(message);
