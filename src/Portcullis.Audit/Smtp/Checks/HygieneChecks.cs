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
        }, e => [Finding.Lost("line.long-command", "Over-long command line not split", Severity.Medium, e, t, port)], ct);
    }

    /// <summary>Catalog §4 "HELO checks": EHLO without an argument and HELO with garbage must get a syntax error (501).</summary>
    public static Task<Finding> HeloSyntaxAsync(SessionOpener opener, CancellationToken ct)
    {
        const string id = "helo.syntax";
        const string title = "Invalid EHLO/HELO arguments refused";
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        // Straight after the greeting (no EHLO of ours first, or "503 already identified" would hide the answer);
        // on an implicit-TLS port the session is already inside TLS.
        return SessionScope.RunAsync(opener, false, t, async s =>
        {
            var mark = t.Mark();
            var empty = SessionOpener.NotClosing(await s.Probe.CommandAsync("EHLO", ct).ConfigureAwait(false));
            var junk = SessionOpener.NotClosing(await s.Probe.CommandAsync("HELO @#$%^&*()", ct).ConfigureAwait(false));
            var accepted = new[] { ("EHLO without argument", empty), ("HELO @#$%^&*()", junk) }.Where(x => x.Item2.Class == 2).Select(x => $"{x.Item1} got {x.Item2.Code}").ToList();
            return accepted.Count > 0
                ? new Finding(id, title, CheckStatus.Fail, Severity.Low, "accepted: " + string.Join(", ", accepted), t.Since(mark), FixTopic.HeloSyntax, port, "catalog §4")
                : new Finding(id, title, CheckStatus.Pass, Severity.Low, $"refused ({empty.Code}, {junk.Code})", t.Since(mark), null, port, "catalog §4");
        }, e => Finding.Lost(id, title, Severity.Low, e, t, port), ct, hello: false);
    }

    /// <summary>RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients per message (then 452, §4.5.3.1.10).</summary>
    public static Task<Finding> RecipientLimitAsync(SessionOpener opener, bool tls, string domain, CancellationToken ct)
    {
        const string id = "rcpt.limit";
        const string title = "At least 100 recipients accepted per message";
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mail = await s.Probe.CommandAsync($"MAIL FROM:<audit@{domain}>", ct).ConfigureAwait(false);
            if (!mail.IsPositive)
            {
                return Finding.MailRefused(id, title, Severity.Low, mail, t, port);
            }
            var accepted = 0;
            Portcullis.Smtp.SmtpReply? stop = null;
            for (var i = 0; i < 101; i++)
            {
                var mark = t.Mark();
                var r = SessionOpener.NotClosing(await s.Probe.CommandAsync($"RCPT TO:<postmaster@{domain}>", ct).ConfigureAwait(false));
                if (r.Class != 2)
                {
                    stop = r;
                    break;
                }
                accepted++;
            }
            await s.Probe.CommandAsync("RSET", ct).ConfigureAwait(false);
            var evidence = $"-- {accepted} x RCPT TO:<postmaster@{domain}> accepted" + (stop is null ? "" : $"; then {stop}");
            if (accepted == 0)
            {
                return new Finding(id, title, CheckStatus.Inconclusive, Severity.Low, $"postmaster@{domain} was not accepted: {stop}", evidence, null, port);
            }
            return accepted >= 100
                ? new Finding(id, title, CheckStatus.Pass, Severity.Low, stop is null ? "101 recipients accepted" : $"{accepted} accepted, then {stop.Code}", evidence, null, port, "RFC 5321 §4.5.3.1.8")
                : new Finding(id, title, CheckStatus.Fail, Severity.Low, $"only {accepted} recipients accepted, then {stop}", evidence, FixTopic.RecipientLimit, port, "RFC 5321 §4.5.3.1.8");
        }, e => Finding.Lost(id, title, Severity.Low, e, t, port), ct);
    }

    /// <summary>
    /// Catalog §2.3 (smtpsmug "pipelining") and §4 "Pipelining discipline": after HELO (no PIPELINING), two
    /// commands in one write. A server that answers both ran a command sent before its turn; the secure
    /// answer is 554 5.5.0 and a disconnect (Postfix smtpd_forbid_unauth_pipelining).
    /// </summary>
    public static Task<Finding> PipeliningDisciplineAsync(SessionOpener opener, string domain, CancellationToken ct)
    {
        const string id = "pipelining.discipline";
        const string title = "Commands sent before their turn are refused";
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, false, t, async s =>
        {
            var helo = SessionOpener.NotClosing(await s.Probe.CommandAsync("HELO auditor.invalid", ct).ConfigureAwait(false));
            if (!helo.IsPositive)
            {
                return new Finding(id, title, CheckStatus.Inconclusive, Severity.Low, "HELO refused: " + helo, t.ToString(), null, port);
            }
            var mark = t.Mark();
            await s.Probe.SendRawAsync($"MAIL FROM:<audit@{domain}>\r\nRSET\r\n", ct).ConfigureAwait(false);
            var first = await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
            var second = first is { IsPositive: true } ? await s.Probe.TryReadReplyAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false) : null;
            if (first is null)
            {
                return new Finding(id, title, CheckStatus.Inconclusive, Severity.Low, "no answer to pipelined commands", t.Since(mark), null, port);
            }
            return first.IsPositive && second is { IsPositive: true }
                ? new Finding(id, title, CheckStatus.Fail, Severity.Low, $"both pipelined commands ran without PIPELINING ({first.Code}, {second.Code})", t.Since(mark), FixTopic.Pipelining, port, "catalog §2.3, RFC 2920 §3.1")
                : new Finding(id, title, CheckStatus.Pass, Severity.Low, "refused: " + (first.IsPositive ? second?.ToString() ?? "connection closed" : first.ToString()), t.Since(mark), null, port, "catalog §4");
        }, e => Finding.Lost(id, title, Severity.Low, e, t, port), ct, hello: false);
    }

    /// <summary>Catalog §4 "Path and part limits": a 65-octet local part must get 501 (RFC 5321 §4.5.3.1.1), never 250.</summary>
    public static Task<Finding> PathLimitsAsync(SessionOpener opener, bool tls, string domain, CancellationToken ct)
    {
        const string id = "path.limits";
        const string title = "Over-long addresses refused";
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mark = t.Mark();
            var mail = SessionOpener.NotClosing(await s.Probe.CommandAsync($"MAIL FROM:<{new string('a', 65)}@{domain}>", ct).ConfigureAwait(false));
            await s.Probe.CommandAsync("RSET", ct).ConfigureAwait(false);
            return mail.IsPositive
                ? new Finding(id, title, CheckStatus.Fail, Severity.Low, "a 65-octet local part was accepted: " + mail, t.Since(mark), FixTopic.PathLimits, port, "catalog §4, RFC 5321 §4.5.3.1.1")
                : new Finding(id, title, CheckStatus.Pass, Severity.Low, "refused: " + mail, t.Since(mark), null, port, "catalog §4");
        }, e => Finding.Lost(id, title, Severity.Low, e, t, port), ct);
    }
}
