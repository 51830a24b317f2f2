using Portcullis.Smtp;

namespace Portcullis.Server.Policy;

/// <summary>Where an accepted recipient goes.</summary>
public enum RecipientRoute
{
    /// <summary>A local mailbox (Maildir).</summary>
    Local,
    /// <summary>Another domain's MX (only for clients that may relay).</summary>
    Remote,
}

/// <summary>
/// The answer to "may this recipient be accepted?": the reply to send, the rule that decided (for the
/// log line, DESIGN principle 5) and, when accepted, the address delivery will use.
/// </summary>
public sealed record RecipientDecision(bool Accepted, SmtpReply Reply, string Rule, string? DeliverTo, RecipientRoute Route)
{
    public static RecipientDecision Accept(string rule, string deliverTo, RecipientRoute route) =>
        new(true, Replies.RecipientOk, rule, deliverTo, route);

    public static RecipientDecision Refuse(SmtpReply reply, string rule) =>
        new(false, reply, rule, null, RecipientRoute.Local);

    /// <summary>
    /// A refusal for what the directory lacks (no such user in a local domain, a domain that is not local): a
    /// directory that has just gained the entry would accept, so the server decides again once its view has
    /// caught up before it sends this 5xx.
    /// </summary>
    public bool ForLackOfEntry { get; init; }
}
