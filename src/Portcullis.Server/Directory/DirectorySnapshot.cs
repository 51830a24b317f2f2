using System.Collections.Frozen;

namespace Portcullis.Server.Directory;

/// <summary>
/// An immutable view of the directory (local domains, users, aliases) at one moment. The recipient
/// policy is a pure function over it; the store builds a new snapshot when the directory changes.
/// All keys are lower-case (RFC 5321 §2.4: domains are case-insensitive; local parts are treated
/// case-insensitively here, as nearly every MTA does for its own users).
/// </summary>
public sealed class DirectorySnapshot
{
    public static readonly DirectorySnapshot Empty = new([], [], []);

    private readonly FrozenSet<string> _domains;
    private readonly FrozenSet<string> _users;
    private readonly FrozenDictionary<string, string> _aliases;

    /// <param name="domains">local domains, e.g. "example.test"</param>
    /// <param name="users">user addresses, e.g. "alice@example.test"</param>
    /// <param name="aliases">alias address -> target address (a local user, or for later issues any address)</param>
    public DirectorySnapshot(IEnumerable<string> domains, IEnumerable<string> users, IEnumerable<KeyValuePair<string, string>> aliases)
    {
        _domains = domains.Select(Normalize).ToFrozenSet(StringComparer.Ordinal);
        _users = users.Select(Normalize).ToFrozenSet(StringComparer.Ordinal);
        _aliases = aliases.ToFrozenDictionary(kv => Normalize(kv.Key), kv => Normalize(kv.Value), StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Domains => _domains;
    public IReadOnlyCollection<string> Users => _users;
    public IReadOnlyDictionary<string, string> Aliases => _aliases;

    public bool IsLocalDomain(string domain) => _domains.Contains(Normalize(domain));

    public bool IsUser(string address) => _users.Contains(Normalize(address));

    /// <summary>
    /// Resolves a local address to the user mailbox it delivers to, following aliases (at most 8 hops,
    /// so an alias loop cannot hang the server). Null when nothing matches.
    /// </summary>
    public string? ResolveMailbox(string address)
    {
        var current = Normalize(address);
        for (var hop = 0; hop < 8; hop++)
        {
            if (_users.Contains(current))
            {
                return current;
            }
            if (!_aliases.TryGetValue(current, out var next))
            {
                return null;
            }
            current = next;
        }
        return null;
    }

    /// <summary>The addresses a user may use as sender: its own and every alias that resolves to it.</summary>
    public IEnumerable<string> AddressesOwnedBy(string user)
    {
        var u = Normalize(user);
        yield return u;
        foreach (var alias in _aliases.Keys)
        {
            if (ResolveMailbox(alias) == u)
            {
                yield return alias;
            }
        }
    }

    public static string Normalize(string s) => s.Trim().ToLowerInvariant();
}
