namespace Portcullis.Server.Directory;

/// <summary>A local domain: mail for any address in it is ours to accept or refuse (RFC 5321 §2.3.5).</summary>
public sealed record DomainEntry(string Name, DateTimeOffset Created);

/// <summary>A user: a mailbox address with its SCRAM-SHA-256 credential (never the password).</summary>
public sealed record UserEntry(string Address, DateTimeOffset Created);

/// <summary>An alias: mail to <see cref="Address"/> is delivered to <see cref="Target"/>'s mailbox.</summary>
public sealed record AliasEntry(string Address, string Target, DateTimeOffset Created);

/// <summary>What a removal took away: the entry itself plus, when forced, what depended on it.</summary>
public sealed record DirectoryRemoval(string Removed, IReadOnlyList<string> RemovedUsers, IReadOnlyList<string> RemovedAliases);
