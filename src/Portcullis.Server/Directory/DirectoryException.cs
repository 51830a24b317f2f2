namespace Portcullis.Server.Directory;

/// <summary>Why the directory refused a change. All of them are the caller's mistake, not a fault of the store.</summary>
public enum DirectoryErrorKind
{
    /// <summary>The name or address is not acceptable (syntax, not in a local domain, target not a mailbox).</summary>
    Invalid,

    /// <summary>The domain, user or alias is already there.</summary>
    AlreadyExists,

    /// <summary>The domain, user or alias is not there.</summary>
    NotFound,

    /// <summary>Removing it would leave users or aliases without their domain or target (use force).</summary>
    InUse,
}

/// <summary>A refused directory change, with a message meant for the administrator as it is.</summary>
public sealed class DirectoryException(DirectoryErrorKind kind, string message) : Exception(message)
{
    public DirectoryErrorKind Kind { get; } = kind;
}
