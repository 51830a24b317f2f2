using System.Net;

namespace Portcullis.Audit.Smtp;

/// <summary>The names a target answers to, used in routed recipients and forged senders (issue 4).</summary>
public sealed record TargetNames(IReadOnlyList<string> Hosts, string AddressLiteral)
{
    /// <summary>
    /// The name typed (unless it is an address), the host names in the 220 greeting and the EHLO reply, and
    /// each parent domain of those (gw.example.net -> example.net; never a bare top-level domain).
    /// </summary>
    public static TargetNames From(string? typed, string? bannerHost, string? ehloHost, string addressLiteral)
    {
        var hosts = new List<string>();
        foreach (var n in new[] { typed, bannerHost, ehloHost })
        {
            if (n is null || IPAddress.TryParse(n.Trim('[', ']'), out _) || !LooksLikeDomain(n))
            {
                continue;
            }
            var name = n.TrimEnd('.').ToLowerInvariant();
            while (name.Count(c => c == '.') >= 1)
            {
                if (!hosts.Contains(name))
                {
                    hosts.Add(name);
                }
                name = name[(name.IndexOf('.') + 1)..];
            }
        }
        return new TargetNames(hosts, addressLiteral);
    }

    private static bool LooksLikeDomain(string s) =>
        s.Length is > 0 and < 254 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') && s.Contains('.', StringComparison.Ordinal);
}

/// <summary>
/// Expands <see cref="RelayVectorTable"/> over a target's names into the vectors to send. Identical vectors
/// (same EHLO, MAIL FROM and RCPT TO) are sent once. With a canary, each vector gets its own token in the
/// recipient's local part, so that a delivery names the vector that was relayed (catalog §6.2).
/// </summary>
public static class RelayVectorGenerator
{
    public const string DefaultRelayLocalPart = "relaytest";
    public const string ForgedLocalPart = "antispam";

    public static IReadOnlyList<RelayVector> Generate(TargetNames names, string destinationDomain, Func<string>? newToken = null)
    {
        var dsblDomains = new List<string> { "[127.0.0.1]", "localhost", names.AddressLiteral };
        dsblDomains.AddRange(names.Hosts);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<RelayVector>();
        foreach (var t in RelayVectorTable.Templates)
        {
            IEnumerable<(string Suffix, string? Host, string? D)> expansions =
                t.PerHost ? names.Hosts.Select(h => ("." + h, (string?)h, (string?)null))
                : t.PerDsblDomain ? dsblDomains.Distinct().Select(d => ("." + d.Trim('[', ']'), (string?)null, (string?)d))
                : [("", null, null)];
            foreach (var (suffix, host, d) in expansions)
            {
                string Fill(string s, string to) => s
                    .Replace("{to}", to, StringComparison.Ordinal)
                    .Replace("{dest}", destinationDomain, StringComparison.Ordinal)
                    .Replace("{DEST}", destinationDomain.ToUpperInvariant(), StringComparison.Ordinal)
                    .Replace("{from}", ForgedLocalPart, StringComparison.Ordinal)
                    .Replace("{host}", host ?? "", StringComparison.Ordinal)
                    .Replace("{HOST}", (host ?? "").ToUpperInvariant(), StringComparison.Ordinal)
                    .Replace("{ip}", names.AddressLiteral, StringComparison.Ordinal)
                    .Replace("{d}", d ?? "", StringComparison.Ordinal);
                var helo = t.Helo is null ? null : Fill(t.Helo, DefaultRelayLocalPart);
                var key = $"{helo}|{Fill(t.MailFrom, DefaultRelayLocalPart)}|{Fill(t.RcptTo, DefaultRelayLocalPart)}";
                if (!seen.Add(key))
                {
                    continue;
                }
                var token = newToken?.Invoke();
                var to = token ?? DefaultRelayLocalPart;
                result.Add(new RelayVector(t.Id + suffix, t.Trick, t.Source, helo, Fill(t.MailFrom, to), Fill(t.RcptTo, to)) { Token = token });
            }
        }
        return result;
    }
}
