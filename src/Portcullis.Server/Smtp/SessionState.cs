using Portcullis.Smtp;

namespace Portcullis.Server.Smtp;

/// <summary>Where a session is in the SMTP dialogue (RFC 5321 §4.1.4 command ordering).</summary>
public enum SessionState
{
    /// <summary>Greeting sent; EHLO/HELO expected (again after STARTTLS, RFC 3207 §4.2).</summary>
    Connected,
    /// <summary>EHLO/HELO done, no transaction.</summary>
    Ready,
    /// <summary>MAIL accepted.</summary>
    HaveSender,
    /// <summary>At least one RCPT accepted.</summary>
    HaveRecipient,
}

/// <summary>
/// The protocol as a table: which verb is allowed in which state, and what is answered otherwise. The
/// session's handlers do the work only once this table has let the command through.
/// </summary>
public static class SmtpStateTable
{
    private static readonly SessionState[] Any = [SessionState.Connected, SessionState.Ready, SessionState.HaveSender, SessionState.HaveRecipient];
    private static readonly SessionState[] Greeted = [SessionState.Ready, SessionState.HaveSender, SessionState.HaveRecipient];

    private static readonly Dictionary<SmtpVerb, SessionState[]> Allowed = new()
    {
        [SmtpVerb.Helo] = Any,
        [SmtpVerb.Ehlo] = Any,
        [SmtpVerb.Mail] = [SessionState.Ready],
        [SmtpVerb.Rcpt] = [SessionState.HaveSender, SessionState.HaveRecipient],
        [SmtpVerb.Data] = [SessionState.HaveRecipient],
        [SmtpVerb.Rset] = Any,
        [SmtpVerb.Noop] = Any,
        [SmtpVerb.Quit] = Any,
        [SmtpVerb.Vrfy] = Any,
        [SmtpVerb.Expn] = Any,
        [SmtpVerb.Help] = Any,
        // RFC 3207 §4: STARTTLS after EHLO, outside a mail transaction.
        [SmtpVerb.StartTls] = [SessionState.Ready],
        // RFC 4954 §4: AUTH after EHLO, not during a mail transaction.
        [SmtpVerb.Auth] = [SessionState.Ready],
    };

    /// <summary>Null when the verb may run now; otherwise the reply that refuses it.</summary>
    public static SmtpReply? Check(SmtpVerb verb, SessionState state)
    {
        if (verb is SmtpVerb.Unknown or SmtpVerb.Bdat || !Allowed.TryGetValue(verb, out var states))
        {
            return verb == SmtpVerb.Bdat ? Replies.NotImplemented : Replies.CommandUnrecognized;
        }
        if (Array.IndexOf(states, state) >= 0)
        {
            return null;
        }
        return (verb, state) switch
        {
            (_, SessionState.Connected) when Array.IndexOf(Greeted, SessionState.Ready) >= 0 && verb is SmtpVerb.Mail or SmtpVerb.Rcpt or SmtpVerb.Data or SmtpVerb.StartTls or SmtpVerb.Auth => Replies.NeedHelo,
            (SmtpVerb.Mail, _) => Replies.NestedMail,
            (SmtpVerb.Rcpt, _) => Replies.NeedMail,
            // RFC 5321 §3.3: DATA with no accepted recipient: 554 "no valid recipients" (or 503).
            (SmtpVerb.Data, SessionState.HaveSender) => new SmtpReply(554, "5.5.1", "No valid recipients"),
            (SmtpVerb.Data, _) => Replies.NeedMail,
            _ => Replies.BadSequence,
        };
    }

    /// <summary>
    /// RFC 2920 §3.1: these commands end a pipelined group; input already waiting after one of them is
    /// a synchronisation error even when PIPELINING was negotiated.
    /// </summary>
    public static bool EndsPipelineGroup(SmtpVerb verb) =>
        verb is SmtpVerb.Ehlo or SmtpVerb.Helo or SmtpVerb.Data or SmtpVerb.Vrfy or SmtpVerb.Expn or SmtpVerb.Noop or SmtpVerb.Quit or SmtpVerb.Auth;
}
