using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// Issue 5's verdict rules, in one place: open if any protocol is proven; closed on refusals,
/// authentication demands, closed connections, other protocols, or grants without a connection;
/// inconclusive only when nothing answered.
/// </summary>
public static class ProxyVerdict
{
    public static Verdict Decide(IEnumerable<ProbeOutcome> outcomes, out string reason)
    {
        var list = outcomes.ToList();
        var proven = list.Where(o => o.Result == ProbeResult.Proven).ToList();
        if (proven.Count > 0)
        {
            var protos = string.Join(", ", proven.Select(o => $"{o.Protocol.Id()} on port {o.Port}").Distinct());
            reason = $"open proxy: proven through {protos} (the proof came back through the proxy)";
            return Verdict.Open;
        }
        var answered = list.Where(o => o.Answered).ToList();
        if (answered.Count > 0)
        {
            var grants = answered.Count(o => o.Result == ProbeResult.GrantedNoConnect);
            reason = "no proxy protocol carried traffic to the canary or mail server" +
                     (grants > 0 ? $"; {grants} attempt(s) were granted but did not connect (not counted as open)" : "");
            return Verdict.Closed;
        }
        reason = list.Count == 0 || list.All(o => o.Result == ProbeResult.Unreachable)
            ? "not tested: no port accepted a connection"
            : "nothing answered any proxy request in time";
        return Verdict.Inconclusive;
    }

    /// <summary>One check per protocol and port, from that pair's outcomes towards every destination.</summary>
    public static CheckResult CheckFor(ProxyProtocol protocol, int port, IReadOnlyList<ProbeOutcome> outcomes, bool targetConclusive)
    {
        var best = outcomes.OrderBy(o => Rank(o.Result)).First();
        var status = best.Result switch
        {
            ProbeResult.Proven => CheckStatus.Fail,
            ProbeResult.GrantedNoConnect or ProbeResult.Refused or ProbeResult.AuthRequired or ProbeResult.ConnectionClosed => CheckStatus.Pass,
            ProbeResult.OtherProtocol => CheckStatus.Skipped,
            // Suspect (a listed SSH version; factory credentials that worked but brought no proof): not pass, not fail.
            ProbeResult.Suspect => CheckStatus.Inconclusive,
            _ => targetConclusive ? CheckStatus.Skipped : CheckStatus.Inconclusive,
        };
        var summary = string.Join(" | ", outcomes
            .OrderBy(o => Rank(o.Result))
            .Select(o => outcomes.Count > 1 ? $"to {o.Destination}: {o.Summary}" : o.Summary));
        return new CheckResult
        {
            Id = "proxy." + protocol.Id(),
            Title = protocol.Title(),
            Status = status,
            Severity = status == CheckStatus.Fail ? Severity.Critical : best.Result == ProbeResult.Suspect ? (protocol.TriesPasswords() ? Severity.High : Severity.Medium) : Severity.Info,
            Summary = summary,
            Evidence = string.Join("\n", outcomes.Select(o => o.Evidence)),
            Fix = status == CheckStatus.Fail || best.Result == ProbeResult.Suspect ? protocol.Fix() : null,
            Port = port,
        };
    }

    /// <summary>Most telling first: a proof, then a grant without a connection, then refusals, then silence.</summary>
    private static int Rank(ProbeResult r) => r switch
    {
        ProbeResult.Proven => 0,
        ProbeResult.Suspect => 1,
        ProbeResult.GrantedNoConnect => 1,
        ProbeResult.AuthRequired => 2,
        ProbeResult.Refused => 3,
        ProbeResult.ConnectionClosed => 4,
        ProbeResult.OtherProtocol => 5,
        ProbeResult.NoAnswer => 6,
        _ => 7,
    };
}
