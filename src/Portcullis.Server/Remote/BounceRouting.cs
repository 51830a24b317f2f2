using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>Where a bounce goes: where mail to the original sender goes, a local mailbox or out again.</summary>
public static class BounceRouting
{
    public static QueuedRecipient RecipientFor(DirectorySnapshot directory, string sender)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (directory.ResolveMailbox(sender) is { } mailbox)
        {
            return new QueuedRecipient(mailbox, RecipientRoute.Local);
        }
        var at = sender.LastIndexOf('@');
        var local = at > 0 && directory.IsLocalDomain(sender[(at + 1)..]);
        return new QueuedRecipient(sender.ToLowerInvariant(), local ? RecipientRoute.Local : RecipientRoute.Remote);
    }
}
