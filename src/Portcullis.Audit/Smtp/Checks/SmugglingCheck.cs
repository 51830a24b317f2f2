using System.Security.Cryptography;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>How the server treated one bad end-of-data sequence (the three outcomes smtpsmug reports).</summary>
public enum SmugglingOutcome
{
    /// <summary>A 250 right after the bad sequence: it ended the message ("accepted (bad!)").</summary>
    AcceptedAsEndOfData,
    /// <summary>No reply until the real CRLF.CRLF, then 250: the sequence is inside the stored message.</summary>
    StoredInMessage,
    /// <summary>A 4xx/5xx or a disconnect: refused.</summary>
    Refused,
}

/// <summary>
/// SMTP smuggling (catalog §2.2-§2.3), judged automatically the way hannob/smtpsmug does: send headers and a
/// body line, then the bad ending, and wait. "250" = accepted as end of data; silence, then "250" after a
/// real "\r\n.\r\n" = stored inside the message; anything else = refused. Needs a valid recipient (--rcpt):
/// each test message is delivered to it.
/// </summary>
public static class SmugglingCheck
{
    public static SmugglingOutcome Judge(int? replyAfterBadEnding, int? replyAfterRealEnding) => replyAfterBadEnding switch
    {
        250 => SmugglingOutcome.AcceptedAsEndOfData,
        null when replyAfterRealEnding == 250 => SmugglingOutcome.StoredInMessage,
        _ => SmugglingOutcome.Refused,
    };

    public static async Task<List<Finding>> RunAsync(SessionOpener opener, bool tls, string rcpt, TimeSpan wait, CancellationToken ct)
    {
        var port = opener.Endpoint.Port;
        var domain = rcpt.Contains('@', StringComparison.Ordinal) ? rcpt[(rcpt.LastIndexOf('@') + 1)..] : "portcullis.invalid";
        var findings = new List<Finding>();
        var t = new Transcript();
        OpenSession? s = null;
        try
        {
            foreach (var seq in SmugglingSequences.All)
            {
                var id = "smuggling." + seq.Name;
                var title = $"End of data only at CRLF.CRLF ({Transcript.Escape(seq.Bytes)})";
                Finding? f = null;
                for (var attempt = 0; attempt < 2 && f is null; attempt++)
                {
                    var mark = t.Mark();
                    try
                    {
                        if (s is null)
                        {
                            s = await opener.OpenAsync(t, tls, ct).ConfigureAwait(false);
                            mark = t.Mark();
                        }
                        else
                        {
                            await s.Probe.CommandAsync("RSET", ct).ConfigureAwait(false);
                        }
                        f = await OneAsync(s.Probe, seq, id, title, rcpt, domain, wait, t, mark, port, ct).ConfigureAwait(false);
                        if (f.Status != CheckStatus.Pass || f.Summary?.StartsWith("refused", StringComparison.Ordinal) == true)
                        {
                            // After an accepted or refused sequence the session state is uncertain: start afresh.
                            await s.Probe.DisposeAsync().ConfigureAwait(false);
                            s = null;
                        }
                    }
                    catch (ProbeLostException e)
                    {
                        if (s is not null)
                        {
                            await s.Probe.DisposeAsync().ConfigureAwait(false);
                            s = null;
                        }
                        if (attempt == 1)
                        {
                            f = new(id, title, CheckStatus.Inconclusive, Severity.High, "no answer: " + e.Message, t.Since(mark), null, port, "catalog §2.2");
                        }
                    }
                }
                if (f!.Status == CheckStatus.Inconclusive && f.Summary?.StartsWith("--rcpt", StringComparison.Ordinal) == true)
                {
                    // The recipient itself is refused: no sequence can be tested; say so once.
                    findings.Add(f with { Id = "smuggling", Title = "SMTP smuggling (catalog §2.2)" });
                    break;
                }
                findings.Add(f);
            }
        }
        finally
        {
            if (s is not null)
            {
                await s.Probe.QuitAsync(ct).ConfigureAwait(false);
                await s.Probe.DisposeAsync().ConfigureAwait(false);
            }
        }
        return findings;
    }

    private static async Task<Finding> OneAsync(SmtpProbe p, SmugglingSequence seq, string id, string title, string rcpt, string domain, TimeSpan wait, Transcript t, int mark, int port, CancellationToken ct)
    {
        var source = "catalog §2.2 (smtpsmug " + seq.Name + ")";
        var mail = await p.CommandAsync($"MAIL FROM:<audit@{domain}>", ct).ConfigureAwait(false);
        var rc = await p.CommandAsync($"RCPT TO:<{rcpt}>", ct).ConfigureAwait(false);
        if (!mail.IsPositive || !rc.IsPositive)
        {
            return new(id, title, CheckStatus.Inconclusive, Severity.High, $"--rcpt {rcpt} was not accepted: {(mail.IsPositive ? rc : mail)}", t.Since(mark), null, port, source);
        }
        var data = await p.CommandAsync("DATA", ct).ConfigureAwait(false);
        if (data.Code != 354)
        {
            return new(id, title, CheckStatus.Inconclusive, Severity.High, "DATA refused: " + data, t.Since(mark), null, port, source);
        }
        var msgId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await p.SendRawAsync(
            $"From: <audit@{domain}>\r\nTo: <{rcpt}>\r\nSubject: Portcullis SMTP smuggling test {seq.Name}\r\nMessage-ID: <{msgId}@portcullis.invalid>\r\n\r\n" +
            $"Testing '{Transcript.Escape(seq.Bytes)}' as a fake end-of-data sequence (portcullis audit smtp).\r\n" + seq.Bytes, ct).ConfigureAwait(false);
        var first = await p.TryReadReplyAsync(wait, ct).ConfigureAwait(false);
        int? second = null;
        if (first is null)
        {
            await p.SendRawAsync("\r\n.\r\n", ct).ConfigureAwait(false);
            second = (await p.ReadReplyAsync(ct).ConfigureAwait(false)).Code;
        }
        var evidence = t.Since(mark);
        return Judge(first?.Code, second) switch
        {
            SmugglingOutcome.AcceptedAsEndOfData => new(id, title, CheckStatus.Fail, seq.ConformingSenderCanEmit ? Severity.High : Severity.Low,
                $"accepted as end of data: '{Transcript.Escape(seq.Bytes)}' ended the message (250){(seq.ConformingSenderCanEmit ? "; SMTP smuggling possible (CVE-2023-51764 class)" : "; a conforming sender cannot emit it, but it must still be refused")}",
                evidence, FixTopic.Smuggling, port, source),
            SmugglingOutcome.StoredInMessage => new(id, title, CheckStatus.Pass, Severity.High,
                "not end of data: stored inside the message (smtpsmug: 'probably should have been rejected')", evidence, null, port, source),
            _ => new(id, title, CheckStatus.Pass, Severity.High, "refused: " + (first?.ToString() ?? second?.ToString() ?? "?"), evidence, null, port, source),
        };
    }
}
