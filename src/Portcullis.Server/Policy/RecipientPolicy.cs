using Portcullis.Server.Directory;
using Portcullis.Smtp;

namespace Portcullis.Server.Policy;

/// <summary>
/// The one relay decision (DESIGN principle 2): a pure function of the client, the recipient path, the
/// directory and the settings it needs (the postmaster mailbox and the server's host name). The address is judged exactly as delivery will route it, so no
/// form of the address can pass the check as local and then be routed elsewhere (catalog §0.2, §1).
/// </summary>
public static class RecipientPolicy
{
    /// <summary>
    /// Judges the text of a RCPT argument after "TO:" (path and parameters) the way the session does:
    /// syntax first, then <see cref="Decide(ClientFacts, MailPath, DirectorySnapshot, RoleAccounts)"/>. Returns the
    /// parsed path and parameter text so the session can go on with the parameters.
    /// </summary>
    public static (RecipientDecision Decision, MailPath? Path, string Parameters) DecideText(ClientFacts client, string pathText, DirectorySnapshot directory, RoleAccounts roles)
    {
        var err = PathParser.TryParse(pathText, allowNull: false, out var path, out var rest);
        return err switch
        {
            PathError.None => (Decide(client, path, directory, roles), path, rest),
            // A second '@' outside quotes (a@b@c, a@b@) is sender-specified routing, not a typo.
            PathError.ExtraAt => (RecipientDecision.Refuse(Replies.SenderRoutingDenied, "sender-routing"), null, ""),
            PathError.TooLong => (RecipientDecision.Refuse(Replies.PathTooLong, "path-too-long"), null, ""),
            _ => (RecipientDecision.Refuse(Replies.BadRecipientSyntax, "recipient-syntax"), null, ""),
        };
    }

    /// <param name="client">who is asking</param>
    /// <param name="path">the RCPT path as parsed (source route, quoting kept)</param>
    /// <param name="directory">local domains, users and aliases</param>
    /// <param name="roles">the mailbox behind postmaster@ and abuse@, and the host name they also exist at</param>
    public static RecipientDecision Decide(ClientFacts client, MailPath path, DirectorySnapshot directory, RoleAccounts roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var postmaster = roles.Postmaster;
        if (path.Mailbox is null)
        {
            return RecipientDecision.Refuse(Replies.BadRecipientSyntax, "syntax");
        }
        // RFC 5321 §4.1.1.3: a source route is recognised and stripped; the final mailbox is what is judged
        // (catalog §1.1 #12-#13: <@us:victim@remote> must not relay). Nothing below looks at the route.
        var mailbox = path.Mailbox;
        var local = mailbox.LocalPart;

        // Sender-specified routing: '%' (percent hack), '!' (UUCP bang path) or an '@' hidden in a quoted
        // local part. We never route on them, and no one may use them: Postfix allow_untrusted_routing
        // (catalog §1.5) shows how a gateway that passes them on becomes an open relay.
        if (local.IndexOfAny(['%', '!', '@']) >= 0)
        {
            return RecipientDecision.Refuse(Replies.SenderRoutingDenied, "sender-routing");
        }

        if (mailbox.IsUnqualified)
        {
            // RFC 5321 §4.1.1.3: "RCPT TO:<Postmaster>" MUST be accepted. Any other unqualified name is refused:
            // appending a domain would guess, and guessing is what relay tricks exploit.
            if (local.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
            {
                return RecipientDecision.Accept("postmaster", Resolve(directory, postmaster), RouteOf(directory, postmaster));
            }
            return RecipientDecision.Refuse(Replies.UnqualifiedRecipient, "unqualified");
        }

        if (mailbox.IsAddressLiteral)
        {
            // A literal is never one of our domains: we do not deliver to user@[address].
            return Relay(client, mailbox.Address, "address-literal");
        }

        // Domains are case-insensitive (RFC 5321 §2.4) and one trailing dot names the same domain (catalog §1.4).
        var domain = NormalizeDomain(mailbox.Domain);
        var address = local.ToLowerInvariant() + "@" + domain;
        if (!directory.IsLocalDomain(domain))
        {
            if (domain == NormalizeDomain(roles.Hostname))
            {
                // The server's own name (its EHLO and banner name) is where blocklist operators and other
                // administrators write to: RFC 5321 §4.5.1 requires postmaster there, as Postfix's default
                // mydestination ($myhostname) gives. No one else has a mailbox at it, and mail for it is never
                // routed onwards (it would come back here).
                return IsRoleAccount(local)
                    ? RecipientDecision.Accept("role-account", Resolve(directory, postmaster), RouteOf(directory, postmaster))
                    : RecipientDecision.Refuse(Replies.UnknownUser, "unknown-user-at-hostname");
            }
            var relay = Relay(client, address, "relay");
            return relay.Accepted ? relay : relay with { ForLackOfEntry = true };
        }

        var target = directory.ResolveMailbox(address);
        if (target is not null)
        {
            return RecipientDecision.Accept("local-user", target, RecipientRoute.Local);
        }
        // RFC 5321 §4.5.1 and RFC 2142: postmaster@ and abuse@ of every local domain always exist.
        if (IsRoleAccount(local))
        {
            return RecipientDecision.Accept("role-account", Resolve(directory, postmaster), RouteOf(directory, postmaster));
        }
        // Refuse at RCPT time, never accept-then-bounce (backscatter; catalog §4).
        return RecipientDecision.Refuse(Replies.UnknownUser, "unknown-user") with { ForLackOfEntry = true };
    }

    private static bool IsRoleAccount(string local) =>
        local.Equals("postmaster", StringComparison.OrdinalIgnoreCase) || local.Equals("abuse", StringComparison.OrdinalIgnoreCase);

    private static RecipientDecision Relay(ClientFacts client, string address, string rule)
    {
        if (client.MayRelay)
        {
            return RecipientDecision.Accept(client.AuthenticatedUser is not null ? "relay-authenticated" : "relay-trusted-network", address, RecipientRoute.Remote);
        }
        // RFC 5321 §3.6.2 / §7.9: refuse to relay with 550.
        return RecipientDecision.Refuse(Replies.RelayDenied, rule == "relay" ? "relay-denied" : "relay-denied-" + rule);
    }

    private static string Resolve(DirectorySnapshot directory, string address) => directory.ResolveMailbox(address) ?? address.ToLowerInvariant();

    /// <summary>
    /// Where the postmaster's copy goes: a user or alias, or a role mailbox of its own when the configured
    /// address is in a local domain without such a user (the default postmaster@example.test gets
    /// mail/example.test/postmaster/Maildir rather than a trip to the remote queue that would only come
    /// back here); remote only when the administrator configured an address elsewhere.
    /// </summary>
    private static RecipientRoute RouteOf(DirectorySnapshot directory, string address)
    {
        if (directory.ResolveMailbox(address) is not null)
        {
            return RecipientRoute.Local;
        }
        var at = address.LastIndexOf('@');
        return at > 0 && directory.IsLocalDomain(NormalizeDomain(address[(at + 1)..])) ? RecipientRoute.Local : RecipientRoute.Remote;
    }

    public static string NormalizeDomain(string domain)
    {
        var d = domain.ToLowerInvariant();
        return d.EndsWith('.') ? d[..^1] : d;
    }
}
