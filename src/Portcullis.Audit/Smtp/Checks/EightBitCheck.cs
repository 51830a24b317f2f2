using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>What the server did with one undeclared 8-bit message.</summary>
public enum EightBitOutcome
{
    /// <summary>2xx at the end of DATA: the message was taken.</summary>
    Accepted,
    /// <summary>5xx at DATA or at the end of DATA: the message was refused.</summary>
    Refused,
    /// <summary>4xx, no answer, or the recipient itself was refused: nothing can be said.</summary>
    Unknown,
}

/// <summary>
/// Catalog §4 "8-bit without declaration": RFC 5321 §4.5.2 limits plain SMTP to 128 US-ASCII characters;
/// octets >= 0x80 need BODY=8BITMIME (RFC 6152) in the body and SMTPUTF8 (RFC 6531/6532) in the header.
/// Two messages to the --rcpt mailbox, neither declared: one with an 8-bit body, one with an 8-bit
/// Subject. Rejecting both (5xx) or accepting both is consistent; treating the same octets differently by
/// where they sit is the "inconsistent handling from hop to hop" the catalog warns about: a message one
/// hop takes is bounced (or mangled) by the next.
/// </summary>
public static class EightBitCheck
{
    public const string Id = "data.8bit-undeclared";
    private const string Title = "Undeclared 8-bit data handled consistently";
    private const string Source = "catalog §4, RFC 5321 §4.5.2, RFC 6152, RFC 6532";

    public static EightBitOutcome Classify(SmtpReply? endOfData) => endOfData switch
    {
        { Class: 2 } => EightBitOutcome.Accepted,
        { Class: 5 } => EightBitOutcome.Refused,
        _ => EightBitOutcome.Unknown,
    };

    /// <summary>The check's status from the two outcomes (see the class summary and docs/audit-smtp.md).</summary>
    public static CheckStatus Judge(EightBitOutcome body, EightBitOutcome header) =>
        body == EightBitOutcome.Unknown || header == EightBitOutcome.Unknown ? CheckStatus.Inconclusive
        : body == header ? CheckStatus.Pass
        : CheckStatus.Fail;

    public static Task<Finding> RunAsync(SessionOpener opener, bool tls, string rcpt, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mark = t.Mark();
            var advertised = s.Ehlo.Has("8BITMIME") ? "8BITMIME advertised" : "8BITMIME not advertised";
            // "café" and "Grüße" as UTF-8: the commonest undeclared 8-bit a client sends.
            var body = await SendAsync(s.Probe, rcpt, "8-bit body", "Portcullis 8-bit body test", "Caf\u00c3\u00a9 au lait, Gr\u00c3\u00bc\u00c3\u009fe (UTF-8 octets without BODY=8BITMIME).", ct).ConfigureAwait(false);
            if (body.Reply is null && body.Why is not null)
            {
                return new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, body.Why, t.Since(mark), null, port, Source);
            }
            await s.Probe.CommandAsync("RSET", ct).ConfigureAwait(false);
            var header = await SendAsync(s.Probe, rcpt, "8-bit header", "Portcullis 8-bit header test: caf\u00c3\u00a9", "The Subject carries UTF-8 octets without SMTPUTF8.", ct).ConfigureAwait(false);
            if (header.Reply is null && header.Why is not null)
            {
                return new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, header.Why, t.Since(mark), null, port, Source);
            }
            var (b, h) = (Classify(body.Reply), Classify(header.Reply));
            var detail = $"8-bit body without BODY=8BITMIME: {Describe(b, body.Reply)}; 8-bit Subject without SMTPUTF8: {Describe(h, header.Reply)} ({advertised})";
            return Judge(b, h) switch
            {
                CheckStatus.Pass when b == EightBitOutcome.Refused => new Finding(Id, Title, CheckStatus.Pass, Severity.Low, "refuses undeclared 8-bit data consistently: " + detail, t.Since(mark), null, port, Source),
                CheckStatus.Pass => new Finding(Id, Title, CheckStatus.Pass, Severity.Low, "accepts undeclared 8-bit data consistently in body and header: " + detail, t.Since(mark), null, port, Source),
                CheckStatus.Fail => new Finding(Id, Title, CheckStatus.Fail, Severity.Low, "inconsistent: " + detail, t.Since(mark), FixTopic.EightBit, port, Source),
                _ => new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, "no final answer: " + detail, t.Since(mark), null, port, Source),
            };
        }, e => Finding.Lost(Id, Title, Severity.Low, e, t, port, Source), ct);
    }

    private static string Describe(EightBitOutcome o, SmtpReply? r) => o switch
    {
        EightBitOutcome.Accepted => $"accepted ({r!.Code})",
        EightBitOutcome.Refused => $"refused ({r})",
        _ => r is null ? "no answer" : $"deferred ({r})",
    };

    /// <summary>One undeclared transaction: the message with its 8-bit octets (see <see cref="TestMessage"/>).</summary>
    private static Task<(SmtpReply? Reply, string? Why)> SendAsync(SmtpProbe p, string rcpt, string what, string subject, string bodyLine, CancellationToken ct) =>
        // The characters above 0x7f are Latin-1 stand-ins for UTF-8 octets: SendRawAsync writes them as single bytes.
        TestMessage.SendAsync(p, rcpt, what, TestMessage.Header(rcpt, subject) + bodyLine + "\r\n", ct);
}
