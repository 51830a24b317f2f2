namespace Portcullis.Server.Directory;

/// <summary>
/// The directory of local domains, users and aliases. The embedded store is SQLite
/// (<see cref="SqliteDirectoryStore"/>); a PostgreSQL store for several nodes can implement the same
/// interface. Every write validates its input and throws <see cref="DirectoryException"/> with a
/// message for the administrator; names are stored lower-case (<see cref="DirectoryNames"/>).
/// </summary>
public interface IDirectoryStore : IAsyncDisposable
{
    /// <summary>Adds a local domain; returns its stored (lower-case, A-label) form.</summary>
    Task<string> AddDomainAsync(string domain, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DomainEntry>> ListDomainsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a domain. Refused (<see cref="DirectoryErrorKind.InUse"/>) while it still has users or
    /// aliases, unless <paramref name="force"/>: then those go too, with every alias elsewhere that
    /// pointed into the domain. Mailbox files are never deleted.
    /// </summary>
    Task<DirectoryRemoval> RemoveDomainAsync(string domain, bool force, CancellationToken cancellationToken = default);

    /// <summary>Adds a user in an existing local domain with its credential; returns the stored address.</summary>
    Task<string> AddUserAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default);

    /// <summary>Replaces a user's credential (a password change).</summary>
    Task SetCredentialAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default);

    /// <summary>Users, sorted; only those of <paramref name="domain"/> when given.</summary>
    Task<IReadOnlyList<UserEntry>> ListUsersAsync(string? domain = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a user. Refused while aliases resolve to it, unless <paramref name="force"/> (they go too). Mailbox files stay.</summary>
    Task<DirectoryRemoval> RemoveUserAsync(string address, bool force, CancellationToken cancellationToken = default);

    /// <summary>Adds an alias in a local domain whose target resolves to a local user; returns the stored entry.</summary>
    Task<AliasEntry> AddAliasAsync(string alias, string target, CancellationToken cancellationToken = default);

    /// <summary>Aliases, sorted; only those of <paramref name="domain"/> when given.</summary>
    Task<IReadOnlyList<AliasEntry>> ListAliasesAsync(string? domain = null, CancellationToken cancellationToken = default);

    /// <summary>Removes an alias. Refused while other aliases point through it, unless <paramref name="force"/>.</summary>
    Task<DirectoryRemoval> RemoveAliasAsync(string alias, bool force, CancellationToken cancellationToken = default);

    /// <summary>The user's credential for AUTH, or null when there is no such user.</summary>
    Task<ScramCredential?> GetCredentialAsync(string address, CancellationToken cancellationToken = default);

    /// <summary>Everything the recipient policy needs, read in one transaction.</summary>
    Task<DirectorySnapshot> LoadSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A counter that every committed change increases. Cheap (one row), so a running server can poll it
    /// every second and reload the snapshot only when it moved.
    /// </summary>
    Task<long> GetVersionAsync(CancellationToken cancellationToken = default);
}
