using Portcullis.Audit.Canary;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>How far the success-notice request got before the canary wait.</summary>
public enum DsnRequestOutcome
{
    /// <summary>The message was taken with NOTIFY=SUCCESS: a notice may come to the canary.</summary>
    Taken,
    /// <summary>NOTIFY=SUCCESS itself was refused (e.g. 555 where DSN is not offered): nothing can be reflected.</summary>
    Refused,
    /// <summary>MAIL needs authentication here (530, a submission port): the check does not apply.</summary>
    NeedsAuth,
    /// <summary>The transaction failed for another reason (recipient or message refused, deferred, lost).</summary>
    Unknown,
}

/// <summary>One request for a success notice, judged once the canary has had its wait.</summary>
public sealed record DsnRequest(int Port, string Token, DsnRequestOutcome Outcome, string Detail, string Evidence);

/// <summary>
/// A success-notice reflector: a message to the --rcpt mailbox from a sender at the canary domain, with
/// NOTIFY=SUCCESS (RFC 3461 §4.1), over the unauthenticated session anyone can open. A server that honours it
/// mails a "delivered" report, carrying the message's headers, to whatever sender the client named: a stranger
/// can make it send text of their choosing to any address (backscatter, like bouncing after accepting).
/// Proof is the report arriving at the canary; success notices belong to senders who authenticated
/// (Postfix's DSN_README restricts them the same way).
/// </summary>
public static class DsnReflectionCheck
{
    public const string Id = "dsn.success-reflection";
    public const string Title = "Success notices only for senders who proved who they are";
    private const string Source = "RFC 3461 §4.1, §5.2.3; Postfix DSN_README";

    public static Task<DsnRequest> RequestAsync(SessionOpener opener, bool tls, string rcpt, string canaryDomain, SmtpCanary canary, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        var token = canary.NewToken();
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var offered = s.Ehlo.Has("DSN") ? "DSN advertised" : "DSN not advertised";
            var mail = SessionOpener.NotClosing(await s.Probe.CommandAsync($"MAIL FROM:<{token}@{canaryDomain}>", ct).ConfigureAwait(false));
            if (!mail.IsPositive)
            {
                return mail.Code == 530
                    ? new DsnRequest(port, token, DsnRequestOutcome.NeedsAuth, $"not applicable: MAIL needs authentication here ({mail})", t.ToString())
                    : new DsnRequest(port, token, DsnRequestOutcome.Unknown, $"MAIL FROM a canary sender refused: {mail} ({offered})", t.ToString());
            }
            var rc = SessionOpener.NotClosing(await s.Probe.CommandAsync($"RCPT TO:<{rcpt}> NOTIFY=SUCCESS", ct).ConfigureAwait(false));
            if (!rc.IsPositive)
            {
                // Only a refusal of the parameter says the request cannot be made; a refused mailbox says nothing.
                var plain = SessionOpener.NotClosing(await s.Probe.CommandAsync($"RCPT TO:<{rcpt}>", ct).ConfigureAwait(false));
                return plain.IsPositive
                    ? new DsnRequest(port, token, DsnRequestOutcome.Refused, $"NOTIFY=SUCCESS refused: {rc} ({offered})", t.ToString())
                    : new DsnRequest(port, token, DsnRequestOutcome.Unknown, $"--rcpt {rcpt} was not accepted: {plain}", t.ToString());
            }
            var data = await s.Probe.CommandAsync("DATA", ct).ConfigureAwait(false);
            if (data.Code != 354)
            {
                return new DsnRequest(port, token, DsnRequestOutcome.Unknown, $"DATA refused: {data}", t.ToString());
            }
            var message = TestMessage.Header(rcpt, "Portcullis audit: success-notice reflection test " + token)
                + "A report about this message should go only to a sender who authenticated.\r\n";
            await s.Probe.SendRawAsync(message + ".\r\n", ct).ConfigureAwait(false);
            var end = await s.Probe.ReadReplyAsync(ct).ConfigureAwait(false);
            return end is { Class: 2 }
                ? new DsnRequest(port, token, DsnRequestOutcome.Taken, $"message with NOTIFY=SUCCESS taken ({end.Code}; {offered})", t.ToString())
                : new DsnRequest(port, token, DsnRequestOutcome.Unknown, $"message not taken: {(end is null ? "no answer" : end.ToString())}", t.ToString());
        }, e => new DsnRequest(port, token, DsnRequestOutcome.Unknown, "could not complete: " + e.Message, t.ToString()), ct);
    }

    /// <summary>The finding once the canary wait is over.</summary>
    public static Finding Judge(DsnRequest r, IReadOnlyList<SmtpCanaryHit> hits, TimeSpan waited)
    {
        var notice = hits.FirstOrDefault(h => h.InRecipient);
        var evidence = r.Evidence + (hits.Count > 0 ? "\n" + string.Join("\n", hits.Select(h => "canary: " + h)) : "");
        return (r.Outcome, notice) switch
        {
            (_, not null) => new Finding(Id, Title, CheckStatus.Fail, Severity.Medium,
                $"a delivery report (NOTIFY=SUCCESS was asked) reached the canary sender, token {r.Token}, from {notice.DeliveredBy}: anyone can make this server mail a report carrying headers of their choosing to any address",
                evidence, FixTopic.DsnReflection, r.Port, Source),
            (DsnRequestOutcome.Taken, null) => new Finding(Id, Title, CheckStatus.Pass, Severity.Medium,
                $"{r.Detail}; no notice reached the canary within {waited.TotalSeconds:0} s", evidence, null, r.Port, Source),
            (DsnRequestOutcome.Refused, null) => new Finding(Id, Title, CheckStatus.Pass, Severity.Medium, r.Detail, evidence, null, r.Port, Source),
            (DsnRequestOutcome.NeedsAuth, null) => new Finding(Id, Title, CheckStatus.Skipped, Severity.Info, r.Detail, evidence, null, r.Port, Source),
            _ => new Finding(Id, Title, CheckStatus.Inconclusive, Severity.Medium, r.Detail, evidence, null, r.Port, Source),
        };
    }
}
