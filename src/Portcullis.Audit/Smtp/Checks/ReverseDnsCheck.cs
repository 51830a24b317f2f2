using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// Catalog §4 "Reverse DNS": the PTR of the server's address, forward-confirmed (an A/AAAA record of the
/// PTR name holds the address: FCrDNS), compared with the names in the 220 greeting and the EHLO reply.
/// A deliverability matter, not a security one: receivers commonly refuse or score mail from an address
/// without FCrDNS, so missing or unconfirmed reverse DNS fails (low); a greeting name that differs from
/// the PTR name is a warning only (many large MX farms answer with a service name).
/// The address is the one audited; a server that sends from another address needs that one checked too.
/// </summary>
public static class ReverseDnsCheck
{
    public const string Id = "dns.reverse";
    private const string Title = "Reverse DNS (PTR, forward-confirmed)";
    private const string Source = "catalog §4";

    /// <summary>The A/AAAA addresses of each PTR name, as looked up.</summary>
    public sealed record Lookup(IReadOnlyList<string> PtrNames, IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> Forward);

    /// <summary>The finding for looked-up data (pure: the unit tests feed it directly).</summary>
    public static Finding Judge(IPAddress address, Lookup lookup, string? greetingName, string? ehloName, int port)
    {
        var evidence = Evidence(address, lookup, greetingName, ehloName);
        if (lookup.PtrNames.Count == 0)
        {
            return new(Id, Title, CheckStatus.Fail, Severity.Low, $"no PTR record for {address} ({ReverseName(address)}): receivers may refuse or score its mail", evidence, FixTopic.ReverseDns, port, Source);
        }
        var confirmed = lookup.PtrNames.Where(n => lookup.Forward.TryGetValue(n, out var a) && a.Any(x => Same(x, address))).ToList();
        if (confirmed.Count == 0)
        {
            var forwards = string.Join("; ", lookup.PtrNames.Select(n => $"{n} -> {Addresses(lookup, n)}"));
            return new(Id, Title, CheckStatus.Fail, Severity.Low, $"PTR of {address} is not forward-confirmed: {forwards}", evidence, FixTopic.ReverseDns, port, Source);
        }
        var names = new[] { ("greeting", greetingName), ("EHLO", ehloName) }.Where(n => LooksLikeHost(n.Item2)).ToList();
        var mismatched = names.Where(n => !confirmed.Contains(n.Item2!.TrimEnd('.'), StringComparer.OrdinalIgnoreCase)).ToList();
        var ok = $"PTR {string.Join(", ", confirmed)} resolves back to {address}";
        if (names.Count == 0)
        {
            return new(Id, Title, CheckStatus.Pass, Severity.Low, ok + " (the greeting gives no host name to compare)", evidence, null, port, Source);
        }
        return mismatched.Count == 0
            ? new(Id, Title, CheckStatus.Pass, Severity.Low, ok + " and matches the greeting and EHLO name", evidence, null, port, Source)
            : new(Id, Title, CheckStatus.Pass, Severity.Low, $"warning: {ok}, but the {string.Join(" and ", mismatched.Select(n => $"{n.Item1} name {n.Item2}"))} differs", evidence, FixTopic.ReverseDns, port, Source);
    }

    /// <summary>Looks up the PTR and its forward records through <paramref name="dns"/>, then judges.</summary>
    public static async Task<Finding> RunAsync(MxResolver dns, IPAddress address, string? greetingName, string? ehloName, int port, CancellationToken ct)
    {
        try
        {
            var ptr = await dns.ResolvePtrAsync(address, ct).ConfigureAwait(false);
            var forward = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in ptr.Take(4))
            {
                forward[name] = await dns.ResolveAddressesAsync(name, ct).ConfigureAwait(false);
            }
            return Judge(address, new Lookup(ptr, forward), greetingName, ehloName, port);
        }
        catch (Exception e) when (e is DnsLookupException or DnsClient.DnsResponseException or SocketException)
        {
            return new(Id, Title, CheckStatus.Inconclusive, Severity.Low, "DNS lookup failed: " + e.Message, $"-- {dns}", null, port, Source);
        }
    }

    /// <summary>
    /// Loopback, private, shared, link-local and unique-local addresses have no public reverse DNS; the check
    /// runs for them only against a resolver the user names (--dns-server), e.g. an internal one.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any))
        {
            return false;
        }
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return !(b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] == 0);
        }
        return !(a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6UniqueLocal);
    }

    /// <summary>The name a PTR lookup asks for (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa).</summary>
    public static string ReverseName(IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var b = a.GetAddressBytes();
        return a.AddressFamily == AddressFamily.InterNetwork
            ? string.Join(".", Enumerable.Reverse(b)) + ".in-addr.arpa"
            : string.Join(".", Enumerable.Reverse(Convert.ToHexStringLower(b))) + ".ip6.arpa";
    }

    private static bool Same(IPAddress x, IPAddress y) =>
        (x.IsIPv4MappedToIPv6 ? x.MapToIPv4() : x).Equals(y.IsIPv4MappedToIPv6 ? y.MapToIPv4() : y);

    private static bool LooksLikeHost(string? name) =>
        name is { Length: > 0 } && name.Contains('.', StringComparison.Ordinal) && !name.StartsWith('[') && !IPAddress.TryParse(name, out _)
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-');

    private static string Addresses(Lookup l, string name) =>
        l.Forward.TryGetValue(name, out var a) && a.Count > 0 ? string.Join(", ", a) : "no address";

    private static string Evidence(IPAddress address, Lookup l, string? greetingName, string? ehloName)
    {
        var lines = new List<string> { $"-- PTR {ReverseName(address)}: {(l.PtrNames.Count == 0 ? "none" : string.Join(", ", l.PtrNames))}" };
        lines.AddRange(l.PtrNames.Select(n => $"-- A/AAAA {n}: {Addresses(l, n)}"));
        lines.Add($"-- greeting name: {greetingName ?? "none"}; EHLO name: {ehloName ?? "none"}");
        return string.Join("\n", lines);
    }
}
