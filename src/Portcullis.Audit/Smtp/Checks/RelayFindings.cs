using Portcullis.Audit.Canary;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// Turns relay outcomes (and canary hits) into checks and the target's verdict, with issue 4's rules:
/// open only when a token arrived; without a canary a 2xx is "accepts relay recipients (not proven)";
/// inconclusive when any vector got a 2xx without delivery, a 4xx that is not a relay refusal, or no answer;
/// otherwise closed.
/// </summary>
public static class RelayFindings
{
    public sealed record Result(IReadOnlyList<Finding> Findings, Verdict Verdict, string Reason);

    /// <summary>What the canary knows about a token: proven (delivered to the relay recipient), and the hits to show.</summary>
    public delegate (bool Proven, IReadOnlyList<SmtpCanaryHit> Hits) CanaryLookup(string token);

    public static Result Build(IReadOnlyList<RelayOutcome> outcomes, CanaryLookup? canary, int port)
    {
        var judged = new List<(RelayOutcome O, RelayVerdict V, string Summary, string Evidence)>();
        foreach (var o in outcomes)
        {
            var v = o.Verdict;
            var summary = o.Summary;
            var evidence = o.Evidence;
            if (v == RelayVerdict.Accepted)
            {
                var hits = canary is not null && o.Vector.Token is { } tok ? canary(tok) : (false, []);
                if (hits.Proven)
                {
                    v = RelayVerdict.Proven;
                    summary = $"OPEN RELAY, proven: the canary received token {o.Vector.Token} ({o.Vector.Trick})";
                    evidence += "\n" + string.Join("\n", hits.Hits.Select(h => "-- " + h));
                }
                else
                {
                    v = RelayVerdict.Inconclusive;
                    summary = canary is null
                        ? "accepts relay recipients (not proven): " + o.Summary.Replace("accepts relay recipients (not proven): ", "", StringComparison.Ordinal)
                        : "accepts relay recipients, delivery not seen" + (o.MessageAccepted ? " (message taken with 250, token never reached the canary)" : "");
                    if (hits.Hits.Count > 0)
                    {
                        evidence += "\n" + string.Join("\n", hits.Hits.Select(h => "-- " + h));
                    }
                }
            }
            judged.Add((o, v, summary + (o.OverTls ? " [over STARTTLS]" : ""), evidence));
        }

        // One check per vector: the worst of its runs (plain and over TLS).
        var perVector = judged.GroupBy(j => j.O.Vector.Id).Select(g => g.OrderBy(j => j.V).First()).ToList();
        var plainOpen = perVector.Any(j => j.V == RelayVerdict.Proven && TopicOf(j.O.Vector) == FixTopic.OpenRelay);
        var findings = perVector.Select(j => new Finding(
            "relay." + j.O.Vector.Id,
            $"Relay: {j.O.Vector.Trick} (MAIL FROM:{j.O.Vector.MailFrom} RCPT TO:{j.O.Vector.RcptTo}{(j.O.Vector.Helo is null ? "" : ", EHLO " + j.O.Vector.Helo)})",
            j.V switch
            {
                RelayVerdict.Proven => CheckStatus.Fail,
                RelayVerdict.Refused => CheckStatus.Pass,
                _ => CheckStatus.Inconclusive,
            },
            Severity.Critical,
            j.Summary,
            j.Evidence,
            plainOpen ? FixTopic.OpenRelay : TopicOf(j.O.Vector),
            port,
            j.O.Vector.Source)).ToList();

        if (perVector.Count == 0)
        {
            return new(findings, Verdict.Inconclusive, "no relay vector could be tested");
        }
        var proven = perVector.Where(j => j.V == RelayVerdict.Proven).ToList();
        if (proven.Count > 0)
        {
            var tricks = proven.Select(j => $"{j.O.Vector.Trick} (relay.{j.O.Vector.Id})").Take(5);
            return new(findings, Verdict.Open, $"open relay proven by the canary for {proven.Count} of {perVector.Count} vectors: {string.Join("; ", tricks)}{(proven.Count > 5 ? "; ..." : "")}");
        }
        var unsure = perVector.Where(j => j.V != RelayVerdict.Refused).ToList();
        if (unsure.Count > 0)
        {
            var accepted = unsure.Count(j => j.O.Verdict == RelayVerdict.Accepted);
            var reason = accepted > 0
                ? (canary is null
                    ? $"accepts relay recipients (not proven) for {accepted} of {perVector.Count} vectors; run with --canary-domain and --canary-listen to prove delivery"
                    : $"accepts relay recipients, delivery not seen, for {accepted} of {perVector.Count} vectors")
                : unsure.Any(j => j.O.Summary.StartsWith("not tested: the target's time budget", StringComparison.Ordinal))
                    ? $"{unsure.Count} of {perVector.Count} vectors not tested or without a clear answer: the target's time budget ran out (--target-timeout)"
                    : $"{unsure.Count} of {perVector.Count} vectors got no clear answer (4xx that is not a relay refusal, or no answer)";
            return new(findings, Verdict.Inconclusive, reason);
        }
        return new(findings, Verdict.Closed, $"all {perVector.Count} relay vectors were refused");
    }

    /// <summary>Which fix applies when this vector relays: a routing trick, a trusted HELO/sender, or plain openness.</summary>
    public static FixTopic TopicOf(RelayVector v)
    {
        var rcpt = v.RcptTo.Trim('<', '>');
        var routed = rcpt.Contains('%', StringComparison.Ordinal) || rcpt.Contains('!', StringComparison.Ordinal)
            || rcpt.Contains('"', StringComparison.Ordinal) || rcpt.StartsWith('@') || rcpt.Count(c => c == '@') > 1;
        if (routed)
        {
            return FixTopic.RoutingTrick;
        }
        if (v.Helo is not null || v.Id.StartsWith("nmap-03", StringComparison.Ordinal) || v.Id.StartsWith("nmap-04", StringComparison.Ordinal)
            || v.Id.StartsWith("maps-", StringComparison.Ordinal) || v.Id.StartsWith("x-postmaster-sender", StringComparison.Ordinal) || v.Id.StartsWith("dsbl-d-plain", StringComparison.Ordinal))
        {
            return FixTopic.SenderOrHeloTrust;
        }
        return FixTopic.OpenRelay;
    }
}
