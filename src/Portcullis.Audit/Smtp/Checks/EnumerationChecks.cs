using System.Diagnostics;
using System.Security.Cryptography;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// User enumeration (VRFY, EXPN, RCPT), backscatter, postmaster@ and abuse@ (catalog §4). They need a domain
/// the server serves: --rcpt's domain, --domain, the domain typed or the greeting's host name.
/// </summary>
public static class EnumerationChecks
{
    /// <summary>Issue 4: RCPT enumeration fails when this many unknown-user probes in one session all get answers, without slowing down or closing.</summary>
    public const int RcptProbeCount = 20;

    public static string RandomUser() => "no-such-user-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));

    public static Task<List<Finding>> VrfyExpnAsync(SessionOpener opener, bool tls, string domain, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var findings = new List<Finding>();
            // VRFY: a real mailbox (postmaster always exists, RFC 5321 §4.5.1) vs a random one. Different
            // definite answers (250 vs 550) make VRFY an oracle; 252/502 is what RFC 5321 §7.3 asks for.
            var mark = t.Mark();
            var known = await s.Probe.CommandAsync($"VRFY postmaster@{domain}", ct).ConfigureAwait(false);
            var unknown = await s.Probe.CommandAsync($"VRFY {RandomUser()}@{domain}", ct).ConfigureAwait(false);
            var vrfyOracle = known.Code is 250 or 251 && unknown.Code is >= 500 and < 600 and not 502;
            findings.Add(vrfyOracle
                ? new("enum.vrfy", "User enumeration by VRFY", CheckStatus.Fail, Severity.Low, $"VRFY tells users apart: postmaster got {known.Code}, an unknown user got {unknown.Code}", t.Since(mark), FixTopic.Vrfy, port, "catalog §4, RFC 5321 §7.3")
                : new("enum.vrfy", "User enumeration by VRFY", CheckStatus.Pass, Severity.Low, $"VRFY does not tell users apart ({known.Code} / {unknown.Code})", t.Since(mark), null, port, "catalog §4"));

            mark = t.Mark();
            var expn = await s.Probe.CommandAsync($"EXPN postmaster@{domain}", ct).ConfigureAwait(false);
            var expnLists = expn.Code is 250 && expn.Lines.Any(l => l.Contains('@', StringComparison.Ordinal) || l.Contains('<', StringComparison.Ordinal));
            findings.Add(expnLists
                ? new("enum.expn", "User enumeration by EXPN", CheckStatus.Fail, Severity.Low, $"EXPN lists mailboxes: {expn}", t.Since(mark), FixTopic.Expn, port, "catalog §4, RFC 5321 §7.3")
                : new("enum.expn", "User enumeration by EXPN", CheckStatus.Pass, Severity.Low, $"EXPN does not list mailboxes ({expn.Code})", t.Since(mark), null, port, "catalog §4"));
            return findings;
        }, e => [Finding.Lost("enum.vrfy", "User enumeration by VRFY", Severity.Low, e, t, port)], ct);
    }

    /// <summary>postmaster@domain, &lt;Postmaster&gt;, abuse@domain must be accepted; an unknown user must be refused at RCPT (no backscatter).</summary>
    public static Task<(List<Finding> Findings, bool CatchAll)> RecipientsAsync(SessionOpener opener, bool tls, string domain, CancellationToken ct)
    {
        var t = new Transcript();
        var port = opener.Endpoint.Port;
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var findings = new List<Finding>();
            var catchAll = false;
            var mail = await s.Probe.CommandAsync($"MAIL FROM:<audit@{domain}>", ct).ConfigureAwait(false);
            if (!mail.IsPositive)
            {
                return (new List<Finding> { Finding.MailRefused("rcpt.postmaster", "postmaster@ must be accepted", Severity.Low, mail, t, port) }, false);
            }
            async Task<(SmtpReply Reply, string Evidence)> Rcpt(string arg)
            {
                var m = t.Mark();
                var r = await s.Probe.CommandAsync("RCPT TO:" + arg, ct).ConfigureAwait(false);
                return (r, t.Since(m));
            }
            Finding MustAccept(string id, string title, (SmtpReply Reply, string Evidence) r, FixTopic topic, string source) => r.Reply.Class switch
            {
                2 => new(id, title, CheckStatus.Pass, Severity.Low, "accepted: " + r.Reply, r.Evidence, null, port, source),
                4 => new(id, title, CheckStatus.Inconclusive, Severity.Low, "deferred: " + r.Reply, r.Evidence, null, port, source),
                _ => new(id, title, CheckStatus.Fail, Severity.Low, "refused: " + r.Reply, r.Evidence, topic, port, source),
            };
            findings.Add(MustAccept("rcpt.postmaster", $"postmaster@{domain} must be accepted", await Rcpt($"<postmaster@{domain}>").ConfigureAwait(false), FixTopic.Postmaster, "RFC 5321 §4.5.1"));
            findings.Add(MustAccept("rcpt.postmaster-unqualified", "<Postmaster> (no domain) must be accepted", await Rcpt("<Postmaster>").ConfigureAwait(false), FixTopic.Postmaster, "RFC 5321 §4.5.1"));
            findings.Add(MustAccept("rcpt.abuse", $"abuse@{domain} must be accepted", await Rcpt($"<abuse@{domain}>").ConfigureAwait(false), FixTopic.Abuse, "RFC 2142, catalog §4"));
            var unknown = await Rcpt($"<{RandomUser()}@{domain}>").ConfigureAwait(false);
            catchAll = unknown.Reply.Class == 2;
            findings.Add(unknown.Reply.Class switch
            {
                2 => new("rcpt.backscatter", "Unknown recipient refused at RCPT (no backscatter)", CheckStatus.Fail, Severity.Medium, "an unknown user was accepted at RCPT; the server will bounce later, to forged senders: " + unknown.Reply, unknown.Evidence, FixTopic.Backscatter, port, "catalog §4 (Postfix BACKSCATTER_README)"),
                5 => new("rcpt.backscatter", "Unknown recipient refused at RCPT (no backscatter)", CheckStatus.Pass, Severity.Medium, "refused at RCPT: " + unknown.Reply, unknown.Evidence, null, port, "catalog §4"),
                _ => new("rcpt.backscatter", "Unknown recipient refused at RCPT (no backscatter)", CheckStatus.Inconclusive, Severity.Medium, "deferred: " + unknown.Reply, unknown.Evidence, null, port, "catalog §4"),
            });
            return (findings, catchAll);
        }, e => ([Finding.Lost("rcpt.postmaster", "postmaster@ must be accepted", Severity.Low, e, t, port)], false), ct);
    }

    /// <summary>
    /// Issue 4's rule: RCPT enumeration fails when <see cref="RcptProbeCount"/> unknown-user probes in one session
    /// all get a definite answer (5xx "unknown", i.e. a yes/no oracle) without the server slowing down or closing
    /// (RFC 5321 §7.8 lets a server close after "an appropriate number" of 5yz replies; Postfix slows down after
    /// smtpd_soft_error_limit errors). A catch-all domain gives no oracle.
    /// </summary>
    public static Task<Finding> RcptEnumerationAsync(SessionOpener opener, bool tls, string domain, bool catchAll, CancellationToken ct)
    {
        const string id = "enum.rcpt";
        const string title = "User enumeration by RCPT";
        var port = opener.Endpoint.Port;
        if (catchAll)
        {
            return Task.FromResult(new Finding(id, title, CheckStatus.Pass, Severity.Low, "unknown users are accepted (catch-all): RCPT does not tell users apart", null, null, port, "catalog §4"));
        }
        var t = new Transcript();
        return SessionScope.RunAsync(opener, tls, t, async s =>
        {
            var mail = await s.Probe.CommandAsync($"MAIL FROM:<audit@{domain}>", ct).ConfigureAwait(false);
            if (!mail.IsPositive)
            {
                return Finding.MailRefused(id, title, Severity.Low, mail, t, port);
            }
            var times = new List<TimeSpan>();
            for (var i = 0; i < RcptProbeCount; i++)
            {
                var sw = Stopwatch.StartNew();
                SmtpReply r;
                try
                {
                    r = await s.Probe.CommandAsync($"RCPT TO:<{RandomUser()}@{domain}>", ct).ConfigureAwait(false);
                }
                catch (ProbeLostException e)
                {
                    return new Finding(id, title, CheckStatus.Pass, Severity.Low, $"the server closed the session after {i} unknown-user probes ({e.Loss})", t.ToString(), null, port, "RFC 5321 §7.8");
                }
                var elapsed = sw.Elapsed;
                if (r.Code == 421)
                {
                    return new Finding(id, title, CheckStatus.Pass, Severity.Low, $"the server closed the session after {i} unknown-user probes: {r}", t.ToString(), null, port, "RFC 5321 §7.8");
                }
                if (r.Class != 5)
                {
                    return new Finding(id, title, r.Class == 2 ? CheckStatus.Pass : CheckStatus.Inconclusive, Severity.Low, $"probe {i + 1} got {r}: no clear yes/no oracle", t.ToString(), null, port);
                }
                var baseline = times.Count == 0 ? elapsed : times.Order().ElementAt(times.Count / 2);
                if (i > 0 && elapsed > TimeSpan.FromMilliseconds(500) && elapsed > baseline * 5)
                {
                    return new Finding(id, title, CheckStatus.Pass, Severity.Low, $"the server slows down after {i} unknown-user probes ({elapsed.TotalMilliseconds:0} ms vs {baseline.TotalMilliseconds:0} ms)", t.ToString(), null, port, "catalog §4");
                }
                times.Add(elapsed);
            }
            return new Finding(id, title, CheckStatus.Fail, Severity.Low, $"{RcptProbeCount} unknown-user probes in one session were all answered 5xx at full speed (max {times.Max().TotalMilliseconds:0} ms): RCPT is a fast yes/no oracle for valid users", t.ToString(), FixTopic.RcptEnumeration, port, "catalog §4 (nmap smtp-enum-users)");
        }, e => Finding.Lost(id, title, Severity.Low, e, t, port), ct);
    }
}
