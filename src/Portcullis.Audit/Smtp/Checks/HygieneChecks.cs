using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>Banner disclosure and line handling (catalog §4 and the hygiene rows of §2.2).</summary>
public static class HygieneChecks
{
    /// <summary>RFC 5321 §7.5 calls version disclosure a trade-off: reported as information, never as a failure.</summary>
    public static Finding Banner(SmtpEndpoint ep, string greeting, SmtpFingerprint fp) =>
        new("info.banner", "Banner and version disclosure", CheckStatus.Pass, Severity.Info,
            fp.Version is not null ? $"discloses {fp.Display} ({fp.Clue})" : $"software: {fp.Display} ({fp.Clue}); no version disclosed",
            "S: " + greeting, FixTopic.Banner, ep.Port, "catalog §4");

    public static Task<List<Finding>> LinesAsync(SessionOpener opener, bool tls, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var findings = new List<Finding>();
            // RFC 5321 §4.5.3.1.4: a command line is at most 512 octets. A server may refuse or accept a
            // longer one, but must never split it (the remainder would run as a second command).
            var mark = t.Mark();
            var r = await s.Probe.CommandAsync("NOOP " + new string('x', 1100), ct).ConfigureAwait(false);
            var extra = await s.Probe.TryReadReplyAsync(TimeSpan.FromMilliseconds(400), ct).ConfigureAwait(false);
            findings.Add(extra is not null
                ? new("line.long-command", "Over-long command line not split", CheckStatus.Fail, Severity.Medium, $"a 1105-octet line got two replies ({r.Code}, {extra.Code}): the server split it", t.Since(mark), FixTopic.LineHandling, port, "catalog §4, RFC 5321 §4.5.3.1.4")
                : new("line.long-command", "Over-long command line not split", CheckStatus.Pass, Severity.Medium, $"one reply to a 1105-octet line: {r}", t.Since(mark), null, port, "catalog §4"));

            // Catalog §2.2 hygiene: a bare LF must not end a command (RFC 5321 §2.3.8).
            mark = t.Mark();
            await s.Probe.SendRawAsync("NOOP\n", ct).ConfigureAwait(false);
            var bare = await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            if (bare is null)
            {
                await s.Probe.SendRawAsync("\r\n", ct).ConfigureAwait(false);
                bare = await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                findings.Add(new("line.bare-lf-command", "Bare LF does not end a command", CheckStatus.Pass, Severity.Low, "waited for CRLF" + (bare is null ? "" : ", then: " + bare), t.Since(mark), null, port, "catalog §2.2, RFC 5321 §2.3.8"));
            }
            else
            {
                findings.Add(bare.Class == 2
                    ? new("line.bare-lf-command", "Bare LF does not end a command", CheckStatus.Fail, Severity.Low, "a command ended by a bare LF was executed: " + bare, t.Since(mark), FixTopic.LineHandling, port, "catalog §2.2, RFC 5321 §2.3.8")
                    : new("line.bare-lf-command", "Bare LF does not end a command", CheckStatus.Pass, Severity.Low, "refused: " + bare, t.Since(mark), null, port, "catalog §2.2"));
            }

            // Catalog §4: NUL in an address must be refused.
            mark = t.Mark();
            await s.Probe.CommandAsync("RSET", ct).ConfigureAwait(false);
            var nul = await s.Probe.CommandAsync("MAIL FROM:<a\0b@example.invalid>", ct).ConfigureAwait(false);
            findings.Add(nul.Class == 2
                ? new("line.nul", "NUL in a command refused", CheckStatus.Fail, Severity.Low, "MAIL FROM with a NUL byte was accepted: " + nul, t.Since(mark), FixTopic.LineHandling, port, "catalog §4")
                : new("line.nul", "NUL in a command refused", CheckStatus.Pass, Severity.Low, "refused: " + nul, t.Since(mark), null, port, "catalog §4"));
            return findings;
        }, e => [new("line.long-command", "Over-long command line not split", CheckStatus.Inconclusive, Severity.Medium, "could not complete: " + e.Message, t.ToString(), null, port)], ct);
    }
}
