using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Reporting;
using Portcullis.Smtp;

namespace Portcullis.Audit.Scan;

/// <summary>
/// The scan's quick SMTP look at a port that answered: greeting, EHLO, then MAIL and RCPT to a foreign
/// domain, RSET and QUIT; never DATA (catalog §6.2 stage 1). A 2xx to the foreign RCPT is only a relay
/// *candidate* (§6.3), so it makes the verdict inconclusive with a pointer to `portcullis audit smtp`,
/// which proves relaying with a canary; 5xx is closed; 4xx is inconclusive.
/// </summary>
public static class SmtpRelayCandidateProbe
{
    public static async Task<AuditReport> RunAsync(IPEndPoint endpoint, TimeSpan step, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var transcript = new StringBuilder();
        var checks = new List<CheckResult>();
        string? software = null;
        string? vantage = null;
        Verdict verdict;
        string reason;
        try
        {
            using var client = new TcpClient(endpoint.AddressFamily);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(step * 6);
            await client.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
            vantage = ((IPEndPoint)client.Client.LocalEndPoint!).Address.ToString();
            var stream = client.GetStream();
            var reader = new SmtpReplyReader(stream, 4096);

            async Task<SmtpReply?> Read()
            {
                var r = await reader.ReadReplyAsync(cts.Token).ConfigureAwait(false);
                if (r is not null)
                {
                    foreach (var line in r.ToWire().TrimEnd().Split("\r\n"))
                    {
                        transcript.Append("S: ").Append(line).Append('\n');
                    }
                }
                return r;
            }
            async Task<SmtpReply?> Send(string line)
            {
                transcript.Append("C: ").Append(line).Append('\n');
                await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), cts.Token).ConfigureAwait(false);
                return await Read().ConfigureAwait(false);
            }

            var greeting = await Read().ConfigureAwait(false);
            if (greeting is null || greeting.Code != 220)
            {
                checks.Add(Check("smtp.greeting", "SMTP greeting", CheckStatus.Inconclusive, $"no 220 greeting ({greeting?.ToString() ?? "nothing"})", transcript));
                return Report(endpoint, Verdict.Inconclusive, "the port did not greet like an SMTP server", checks, software, vantage, started, clock);
            }
            software = greeting.Lines.Count > 0 ? greeting.Lines[0] : null;
            checks.Add(Check("smtp.greeting", "SMTP greeting", CheckStatus.Pass, greeting.ToString(), null));
            var ehlo = await Send("EHLO portcullis-scan.invalid").ConfigureAwait(false);
            if (ehlo is null || !ehlo.IsPositive)
            {
                ehlo = await Send("HELO portcullis-scan.invalid").ConfigureAwait(false);
            }
            var mail = await Send("MAIL FROM:<portcullis-scan@example.org>").ConfigureAwait(false);
            SmtpReply? rcpt = null;
            if (mail is { IsPositive: true })
            {
                rcpt = await Send("RCPT TO:<relay-test@example.com>").ConfigureAwait(false);
            }
            await Send("RSET").ConfigureAwait(false);
            await Send("QUIT").ConfigureAwait(false);

            var decisive = rcpt ?? mail;
            (var status, verdict, reason) = decisive switch
            {
                null => (CheckStatus.Inconclusive, Verdict.Inconclusive, "the server stopped answering"),
                { Class: 2 } => (CheckStatus.Inconclusive, Verdict.Inconclusive,
                    "relay candidate: RCPT to a foreign domain got " + decisive.Code + "; only delivery proves relaying (catalog §6.3): run `portcullis audit smtp` on it"),
                { Class: 4 } => (CheckStatus.Inconclusive, Verdict.Inconclusive, $"{(rcpt is null ? "MAIL" : "RCPT")} got a temporary refusal ({decisive.Code}): greylisting or deferral, not a verdict"),
                _ => (CheckStatus.Pass, Verdict.Closed, $"{(rcpt is null ? "MAIL" : "RCPT to a foreign domain")} refused with {decisive.Code}"),
            };
            checks.Add(Check("smtp.relay-candidate", "RCPT to a foreign domain (no DATA)", status, decisive?.ToString() ?? reason, transcript,
                decisive is { Class: 2 } ? Severity.High : Severity.Info));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            checks.Add(Check("smtp.session", "SMTP session", CheckStatus.Inconclusive, "the session failed: " + e.Message, transcript));
            verdict = Verdict.Inconclusive;
            reason = "the SMTP session did not complete (not tested)";
        }
        return Report(endpoint, verdict, reason, checks, software, vantage, started, clock);
    }

    private static CheckResult Check(string id, string title, CheckStatus status, string summary, StringBuilder? evidence, Severity severity = Severity.Info) => new()
    {
        Id = id,
        Title = title,
        Status = status,
        Severity = severity,
        Summary = summary,
        Evidence = evidence?.ToString().TrimEnd(),
        Source = "catalog §6.2 stage 1 (RCPT only, no DATA)",
    };

    private static AuditReport Report(IPEndPoint ep, Verdict v, string reason, List<CheckResult> checks, string? software, string? vantage, DateTimeOffset started, Stopwatch clock) => new()
    {
        Target = ep.ToString(),
        Audit = "smtp",
        Address = ep.Address.ToString(),
        Software = software,
        Verdict = v,
        VerdictReason = reason,
        Checks = [.. checks.Select(c => c with { Port = ep.Port })],
        VantagePoint = vantage is null ? null : "tested from " + vantage,
        StartedAt = started,
        DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
    };
}
