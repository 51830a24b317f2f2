using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>What the server did with a message holding one 1001-octet text line.</summary>
public enum LongDataLineOutcome
{
    /// <summary>5xx at the end of data (or as soon as the line arrived): refused, as RFC 5321 §4.5.3.1.6 allows.</summary>
    Refused,
    /// <summary>One 2xx: taken as one message. Whether the stored copy keeps the line whole cannot be seen from outside.</summary>
    Accepted,
    /// <summary>2xx, then a reply to a body line: the server cut the line and the ".\r\n" remainder ended the message.</summary>
    Split,
    /// <summary>4xx or no answer.</summary>
    Unknown,
}

/// <summary>
/// Catalog §4 "Long lines", the DATA half: a text line may be at most 1000 octets including CRLF (RFC 5321
/// §4.5.3.1.6); a server may refuse a longer one (500/552/554) but must never split it silently. The line
/// sent is 998 'x' and a '.' (1001 octets with CRLF), followed by the body line "NOOP ...". A server that
/// cuts after the 998 octets the RFC allows is left with ".\r\n", which ends the message early: it answers
/// 250, then answers the NOOP line as a command. That proves the split (fail). One 250 only shows the
/// message was taken: the stored copy is out of sight, so that is a pass with a warning.
/// </summary>
public static class LongDataLineCheck
{
    public const string Id = "line.long-data";
    public const string Title = "Over-long text line in DATA not split";
    private const string Source = "catalog §4, RFC 5321 §4.5.3.1.6";

    /// <summary>The 999 octets before the CRLF: one over the limit, with the dot where a cut at 998 leaves it alone on a line.</summary>
    public static readonly string Line = new string('x', 998) + ".";

    public static LongDataLineOutcome Classify(SmtpReply? endOfData, SmtpReply? extra) => endOfData switch
    {
        { Class: 2 } when extra is not null => LongDataLineOutcome.Split,
        { Class: 2 } => LongDataLineOutcome.Accepted,
        { Class: 5 } => LongDataLineOutcome.Refused,
        _ => LongDataLineOutcome.Unknown,
    };

    public static CheckStatus Judge(LongDataLineOutcome o) => o switch
    {
        LongDataLineOutcome.Refused or LongDataLineOutcome.Accepted => CheckStatus.Pass,
        LongDataLineOutcome.Split => CheckStatus.Fail,
        _ => CheckStatus.Inconclusive,
    };

    public static Task<Finding> RunAsync(SessionOpener opener, bool tls, string rcpt, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mark = t.Mark();
            var (reply, why) = await TestMessage.SendAsync(s.Probe, rcpt, "1001-octet line",
                TestMessage.Header(rcpt, "Portcullis long text line test")
                + "The next line has 999 octets before its CRLF (RFC 5321 section 4.5.3.1.6 allows 998).\r\n"
                + Line + "\r\nNOOP portcullis-split-probe\r\n", ct).ConfigureAwait(false);
            if (reply is null)
            {
                return new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, why, t.Since(mark), null, port, Source);
            }
            // Only a server that took the message can have split it: then a second reply means the NOOP line ran.
            var extra = reply.Class == 2 ? await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false) : null;
            var outcome = Classify(reply, extra);
            return outcome switch
            {
                LongDataLineOutcome.Refused => new Finding(Id, Title, CheckStatus.Pass, Severity.Low, "refused a 1001-octet text line: " + reply, t.Since(mark), null, port, Source),
                LongDataLineOutcome.Accepted => new Finding(Id, Title, CheckStatus.Pass, Severity.Low, $"warning: accepted a 1001-octet text line ({reply.Code}); make sure it is not split or truncated when stored or relayed", t.Since(mark), FixTopic.LongDataLine, port, Source),
                LongDataLineOutcome.Split => new Finding(Id, Title, CheckStatus.Fail, Severity.Medium, $"split a 1001-octet text line: the cut-off \".\" ended the message ({reply.Code}) and the next body line was answered as a command ({extra!.Code})", t.Since(mark), FixTopic.LongDataLine, port, Source),
                _ => new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, "no final answer: " + reply, t.Since(mark), null, port, Source),
            };
        }, e => Finding.Lost(Id, Title, Severity.Low, e, t, port, Source), ct);
    }
}
