using System.Text.RegularExpressions;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp;

/// <summary>What one reply to MAIL FROM or RCPT TO means for a relay test (catalog §6.3, refined by issue 4).</summary>
public enum RelayReplyClass
{
    /// <summary>2xx: the server would take the recipient. Only a candidate until a canary proves delivery.</summary>
    Accepted,
    /// <summary>5xx, or a 4xx that refuses the relay itself (4.7.x, "Relay access denied"): closed for this vector.</summary>
    Refused,
    /// <summary>Any other 4xx (greylisting, temporary failure): inconclusive, never closed.</summary>
    Deferred,
    /// <summary>1xx/3xx where a 2xx/5xx was due: the server is confused; inconclusive.</summary>
    Unexpected,
}

public static partial class ReplyClassifier
{
    /// <summary>
    /// Classifies a reply to MAIL or RCPT. A stock Postfix answers a foreign recipient with
    /// "454 4.7.1 Relay access denied" (defer_unauth_destination): that refuses the relay, so the server is
    /// closed for that vector, whereas a greylisting "450 4.2.0 Greylisted" says nothing about relaying.
    /// </summary>
    public static RelayReplyClass Classify(SmtpReply reply) => reply.Code switch
    {
        >= 200 and < 300 => RelayReplyClass.Accepted,
        >= 500 and < 600 => RelayReplyClass.Refused,
        >= 400 and < 500 => IsRelayRefusal(reply) ? RelayReplyClass.Refused : RelayReplyClass.Deferred,
        _ => RelayReplyClass.Unexpected,
    };

    /// <summary>A 4xx refusing the relay itself: an enhanced code 4.7.x (RFC 3463 security/policy) or "relay ... denied" in the text.</summary>
    public static bool IsRelayRefusal(SmtpReply reply) =>
        reply.Enhanced?.StartsWith("4.7.", StringComparison.Ordinal) == true
        || reply.Lines.Any(l => RelayDeniedText().IsMatch(l));

    [GeneratedRegex(@"relay\w*\b.*\b(denied|not permitted|not allowed|prohibited|refused)|relay(ing)? (access )?denied|not permitted to relay|unable to relay|we do not relay", RegexOptions.IgnoreCase)]
    private static partial Regex RelayDeniedText();
}
