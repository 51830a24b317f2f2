using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// Catalog §4 "NUL / control bytes", the header half: a message whose Subject holds a NUL octet must be
/// refused (5xx). NUL is not text (RFC 5322 §2.2 allows printable US-ASCII and WSP in field bodies); C-string
/// software cuts the header at it, and NUL in headers "caused misinterpretation of addresses" (Sendmail F=1
/// rationale). Accepting it is a fail: stock Postfix 3.7 answers 250 and stores "Subject: ..." cut at the NUL.
/// </summary>
public static class HeaderNulCheck
{
    public const string Id = "data.nul";
    public const string Title = "NUL in a message header refused";
    private const string Source = "catalog §4, RFC 5322 §2.2";

    public static CheckStatus Judge(SmtpReply? endOfData) => endOfData switch
    {
        { Class: 5 } => CheckStatus.Pass,
        { Class: 2 } => CheckStatus.Fail,
        _ => CheckStatus.Inconclusive,
    };

    public static Task<Finding> RunAsync(SessionOpener opener, bool tls, string rcpt, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mark = t.Mark();
            var (reply, why) = await TestMessage.SendAsync(s.Probe, rcpt, "NUL header",
                TestMessage.Header(rcpt, "Portcullis NUL header test\0 text after the NUL") + "The Subject holds a NUL octet.\r\n", ct).ConfigureAwait(false);
            if (reply is null)
            {
                return new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, why, t.Since(mark), null, port, Source);
            }
            return Judge(reply) switch
            {
                CheckStatus.Pass => new Finding(Id, Title, CheckStatus.Pass, Severity.Low, "refused a NUL in the Subject: " + reply, t.Since(mark), null, port, Source),
                CheckStatus.Fail => new Finding(Id, Title, CheckStatus.Fail, Severity.Low, $"accepted a NUL in the Subject ({reply.Code}): the header may be cut at the NUL or passed on to software that misreads it", t.Since(mark), FixTopic.HeaderNul, port, Source),
                _ => new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Low, "no final answer: " + reply, t.Since(mark), null, port, Source),
            };
        }, e => Finding.Lost(Id, Title, Severity.Low, e, t, port, Source), ct);
    }
}
