using System.Net;

namespace Portcullis.Audit.Canary;

/// <summary>
/// A token seen by the canary. <see cref="InRecipient"/> is true when the token was in a RCPT TO address,
/// i.e. the message was delivered to the relay recipient: that is the proof of relaying. A token seen only
/// in the text of a message to someone else (a bounce to the forged sender) is backscatter, not a relay.
/// </summary>
public sealed record SmtpCanaryHit(string Token, bool InRecipient, IPAddress DeliveredBy, string MailFrom, IReadOnlyList<string> Recipients, DateTimeOffset At)
{
    public override string ToString() =>
        $"canary {(InRecipient ? "received" : "saw in a message")} token {Token} at {At:HH:mm:ss.fff} from {DeliveredBy}: MAIL FROM:{MailFrom} RCPT TO:{string.Join(", ", Recipients)}";
}
