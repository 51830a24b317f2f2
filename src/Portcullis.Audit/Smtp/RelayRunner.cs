using System.Globalization;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp;

/// <summary>Sends the DATA of a canary relay test (catalog §6.2 stage 2).</summary>
public static class CanaryMessage
{
    public static string Build(RelayVector v, string target, string destinationDomain) =>
        $"From: Portcullis relay audit <audit@{destinationDomain}>\r\n" +
        $"To: {v.RcptTo.Trim('<', '>')}\r\n" +
        $"Subject: Portcullis relay test {v.Token}\r\n" +
        $"Message-ID: <{v.Token}@{destinationDomain}>\r\n" +
        $"Date: {DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture)}\r\n" +
        "X-Portcullis-Audit: relay test\r\n" +
        "\r\n" +
        $"This message is an open-relay test by `portcullis audit smtp` (vector {v.Id}, token {v.Token}).\r\n" +
        $"It reached you because {target} relayed it. The operator of the audit asked for this test.\r\n" +
        ".\r\n";
}

/// <summary>
/// Runs relay vectors against one endpoint: RSET between vectors on one connection, a fresh connection every
/// few vectors (servers such as Postfix slow down after ten errors in a session, smtpd_soft_error_limit),
/// and one retry on a new connection when the server drops the line. With a canary it sends DATA for every
/// recipient the server accepted, so the canary can prove the relay.
/// </summary>
public sealed class RelayRunner(SessionOpener opener, int vectorsPerConnection = 8)
{
    public async Task<IReadOnlyList<RelayOutcome>> RunAsync(IReadOnlyList<RelayVector> vectors, bool overTls, string? canaryDomain, CancellationToken ct)
    {
        var results = new List<RelayOutcome>(vectors.Count);
        OpenSession? session = null;
        var used = 0;
        string? currentHelo = null;
        var transcript = new Transcript();
        try
        {
            foreach (var v in vectors)
            {
                RelayOutcome? outcome = null;
                for (var attempt = 0; attempt < 2 && outcome is null; attempt++)
                {
                    var mark = transcript.Mark();
                    try
                    {
                        if (session is null || used >= vectorsPerConnection || session.Probe.LastReplyTime > TimeSpan.FromSeconds(1))
                        {
                            if (session is not null)
                            {
                                await session.Probe.QuitAsync(ct).ConfigureAwait(false);
                                await session.Probe.DisposeAsync().ConfigureAwait(false);
                                session = null;
                            }
                            mark = transcript.Mark();
                            session = await opener.OpenAsync(transcript, overTls, ct).ConfigureAwait(false);
                            used = 0;
                            currentHelo = opener.HeloName;
                        }
                        else
                        {
                            SessionOpener.NotClosing(await session.Probe.CommandAsync("RSET", ct).ConfigureAwait(false));
                        }
                        used++;
                        var wantHelo = v.Helo ?? opener.HeloName;
                        if (!string.Equals(wantHelo, currentHelo, StringComparison.Ordinal))
                        {
                            await SessionOpener.HelloAsync(session.Probe, wantHelo, ct).ConfigureAwait(false);
                            currentHelo = wantHelo;
                        }
                        outcome = await OneAsync(session.Probe, v, overTls, canaryDomain, transcript, mark, ct).ConfigureAwait(false);
                    }
                    catch (ProbeLostException e)
                    {
                        if (session is not null)
                        {
                            await session.Probe.DisposeAsync().ConfigureAwait(false);
                            session = null;
                        }
                        if (attempt == 1)
                        {
                            outcome = new RelayOutcome(v, RelayVerdict.Inconclusive, "no answer: " + e.Message + " (after one retry on a new connection)", transcript.Since(mark), overTls);
                        }
                    }
                }
                results.Add(outcome!);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Out of time (the target's budget): what was not tested is reported as such, never as refused.
            foreach (var v in vectors.Skip(results.Count))
            {
                results.Add(new RelayOutcome(v, RelayVerdict.Inconclusive, "not tested: the target's time budget ran out", "", overTls));
            }
        }
        finally
        {
            if (session is not null)
            {
                await session.Probe.QuitAsync(CancellationToken.None).ConfigureAwait(false);
                await session.Probe.DisposeAsync().ConfigureAwait(false);
            }
        }
        return results;
    }

    private static async Task<RelayOutcome> OneAsync(SmtpProbe probe, RelayVector v, bool tls, string? canaryDomain, Transcript t, int mark, CancellationToken ct)
    {
        RelayOutcome Done(RelayVerdict verdict, string summary) => new(v, verdict, summary, t.Since(mark), tls);

        var mail = SessionOpener.NotClosing(await probe.CommandAsync("MAIL FROM:" + v.MailFrom, ct).ConfigureAwait(false));
        switch (ReplyClassifier.Classify(mail))
        {
            case RelayReplyClass.Refused:
                return Done(RelayVerdict.Refused, "MAIL FROM refused: " + mail);
            case RelayReplyClass.Deferred or RelayReplyClass.Unexpected:
                return Done(RelayVerdict.Inconclusive, "MAIL FROM deferred: " + mail);
        }
        var rcpt = SessionOpener.NotClosing(await probe.CommandAsync("RCPT TO:" + v.RcptTo, ct).ConfigureAwait(false));
        switch (ReplyClassifier.Classify(rcpt))
        {
            case RelayReplyClass.Refused:
                return Done(RelayVerdict.Refused, "RCPT refused: " + rcpt);
            case RelayReplyClass.Deferred or RelayReplyClass.Unexpected:
                return Done(RelayVerdict.Inconclusive, "RCPT deferred (not a relay refusal): " + rcpt);
        }
        if (canaryDomain is null || v.Token is null)
        {
            return Done(RelayVerdict.Accepted, "accepts relay recipients (not proven): RCPT got " + rcpt);
        }
        var data = SessionOpener.NotClosing(await probe.CommandAsync("DATA", ct).ConfigureAwait(false));
        if (data.Code != 354)
        {
            return ReplyClassifier.Classify(data) == RelayReplyClass.Refused
                ? Done(RelayVerdict.Refused, $"RCPT got {rcpt.Code}, DATA refused: {data}")
                : Done(RelayVerdict.Inconclusive, $"RCPT got {rcpt.Code}, DATA deferred: {data}");
        }
        await probe.SendRawAsync(CanaryMessage.Build(v, probe.Endpoint.Display, canaryDomain), ct).ConfigureAwait(false);
        var end = SessionOpener.NotClosing(await probe.ReadReplyAsync(ct).ConfigureAwait(false));
        return ReplyClassifier.Classify(end) switch
        {
            RelayReplyClass.Accepted => Done(RelayVerdict.Accepted, $"accepts relay recipients, message taken ({end.Code}); waiting for the canary") with { MessageAccepted = true },
            // A server that takes RCPT but refuses the message at the end of DATA does not relay it.
            RelayReplyClass.Refused => Done(RelayVerdict.Refused, $"RCPT got {rcpt.Code} but the message was refused: {end}"),
            _ => Done(RelayVerdict.Inconclusive, $"RCPT got {rcpt.Code}, end of data deferred: {end}"),
        };
    }
}
