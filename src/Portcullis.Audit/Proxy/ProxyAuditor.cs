using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Portcullis.Audit.Reporting;

namespace Portcullis.Audit.Proxy;

public sealed record ProxyAuditOptions
{
    public IReadOnlyList<ProxyProtocol> Protocols { get; init; } = ProxyProtocols.Default;
    public ProbeTimeouts Timeouts { get; init; } = new();
    /// <summary>
    /// Issue 5: one HOST:PORT finishes within 60 s by default. The budget counts from the port's first
    /// connection, and <see cref="WrapUp"/> of it is kept for closing the probes and writing the report.
    /// </summary>
    public TimeSpan PerPortBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>What the end of a port's audit takes after its probes are cut short.</summary>
    public static readonly TimeSpan WrapUp = TimeSpan.FromSeconds(1);
    /// <summary>
    /// Connections open at once to the audited host. Politeness (catalog §6.2 step 5, "at most one connection
    /// per target at a time"; issues 4 and 5): 1 unless the user asks for more (--host-connections).
    /// </summary>
    public int MaxConnections { get; init; } = 1;
}

/// <summary>
/// Audits one host for open proxies: every protocol on every port that accepts a connection, each on its
/// own connection, towards every destination (canary and/or --through-to mail server), then one verdict.
/// The connections go one after another (<see cref="ProxyAuditOptions.MaxConnections"/> at once).
/// </summary>
public static partial class ProxyAuditor
{
    public static async Task<AuditReport> AuditAsync(string target, IPAddress address, IReadOnlyList<int> ports,
        IReadOnlyList<ProbeDestination> destinations, ProxyAuditOptions options, CancellationToken ct)
    {
        if (destinations.Count == 0)
        {
            throw new ArgumentException("a proxy audit needs a canary or a --through-to mail server", nameof(destinations));
        }
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        // Each entry is a finished check (an unreachable port) or a port's outcomes for one protocol,
        // turned into a check once the target's verdict is known.
        var entries = new List<(CheckResult? Ready, ProxyProtocol Protocol, int Port, ProbeOutcome[] Outcomes)>();
        var all = new List<ProbeOutcome>();
        string? vantage = null;
        // The host's connection gate: the waiters are served in order (SemaphoreSlim queues them).
        using var gate = new SemaphoreSlim(Math.Max(1, options.MaxConnections));
        foreach (var port in ports)
        {
            var endpoint = new IPEndPoint(address, port);
            var portClock = Stopwatch.StartNew();
            var (reachable, local, why) = await ProbePortAsync(endpoint, options.Timeouts.Connect, ct).ConfigureAwait(false);
            vantage ??= local;
            if (!reachable)
            {
                all.Add(new ProbeOutcome(ProxyProtocol.HttpConnect, port, "-", ProbeResult.Unreachable, why, ""));
                entries.Add((new CheckResult
                {
                    Id = "proxy.port",
                    Title = "proxy port reachable",
                    Status = CheckStatus.Skipped,
                    Summary = $"port {port}: {why}; not tested",
                    Port = port,
                }, default, port, []));
                continue;
            }
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var left = options.PerPortBudget - ProxyAuditOptions.WrapUp - portClock.Elapsed;
            budget.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            // Protocols side by side only when --host-connections allows; each protocol's destinations in turn.
            var memory = new PortMemory();
            var tasks = options.Protocols.Select(p => RunProtocolAsync(gate, memory, endpoint, p, destinations, options.Timeouts, budget.Token)).ToList();
            var outcomes = (await Task.WhenAll(tasks).ConfigureAwait(false)).SelectMany(o => o).ToArray();
            all.AddRange(outcomes);
            foreach (var group in outcomes.GroupBy(o => o.Protocol))
            {
                entries.Add((null, group.Key, port, [.. group]));
            }
        }
        var verdict = ProxyVerdict.Decide(all, out var reason);
        var conclusive = verdict != Verdict.Inconclusive;
        // Silence is only "inconclusive" when the whole target was silent.
        var final = entries.Select(e => e.Ready ?? ProxyVerdict.CheckFor(e.Protocol, e.Port, e.Outcomes, conclusive)).ToList();
        return new AuditReport
        {
            Target = target,
            Address = address.ToString(),
            Software = SoftwareFrom(all),
            Verdict = verdict,
            VerdictReason = reason,
            Checks = final,
            VantagePoint = vantage is null ? null : $"tested from {vantage}",
            StartedAt = started,
            DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
        };
    }

    /// <summary>
    /// What one port showed that holds whatever is asked next: a failed TLS handshake, and how fast the
    /// port answers in its own protocol.
    /// </summary>
    private sealed class PortMemory
    {
        /// <summary>The shortest wait a port that has shown how fast it answers gets for another protocol.</summary>
        public static readonly TimeSpan MinReplyWait = TimeSpan.FromSeconds(1);

        private long _fastestAnswerTicks = long.MaxValue;

        public volatile ProbeOutcome? TlsFailure;

        /// <summary>
        /// Records how fast the port answered: the time to its first bytes after our request (a grant's too),
        /// or, when that is not known (a failed TLS handshake), the whole probe's time if the port itself
        /// answered it (a refusal, an authentication demand, an answer in another protocol).
        /// </summary>
        public void Answered(ProbeOutcome outcome, TimeSpan took)
        {
            var answer = outcome.FirstReply
                ?? (outcome.Result is ProbeResult.Refused or ProbeResult.AuthRequired or ProbeResult.OtherProtocol ? took : null);
            if (answer is { } a)
            {
                var ticks = a.Ticks;
                long seen;
                while (ticks < (seen = Interlocked.Read(ref _fastestAnswerTicks)) && Interlocked.CompareExchange(ref _fastestAnswerTicks, ticks, seen) != seen)
                {
                }
            }
        }

        /// <summary>
        /// The timeouts for the port's next probe. A server that answered one request within milliseconds
        /// and is silent to another is waiting for more of a request it does not understand (an HTTP server
        /// handed a SOCKS greeting waits for a header end), not thinking: a multi-protocol proxy answers each
        /// of its protocols as fast as the first. So once the port has answered, the wait for the proxy's own
        /// reply (and for a gateway's prompt) is four times its fastest answer, at least
        /// <see cref="MinReplyWait"/> and never more than asked. The wait for proof through the proxy (the
        /// canary's token, the mail server's greeting) is not shortened: that is the far side's time.
        /// </summary>
        public ProbeTimeouts For(ProbeTimeouts t)
        {
            var fastest = Interlocked.Read(ref _fastestAnswerTicks);
            if (fastest == long.MaxValue)
            {
                return t;
            }
            var wait = TimeSpan.FromTicks(Math.Max(MinReplyWait.Ticks, fastest * 4));
            return t with { Reply = wait < t.Reply ? wait : t.Reply, Prompt = wait < t.Prompt ? wait : t.Prompt };
        }
    }

    /// <summary>
    /// One protocol towards each destination. A port that answered in another protocol will answer so
    /// whatever the destination, and a port that failed one TLS handshake fails the next: those attempts
    /// are not made again (fewer connections to the host). The SSH banner check names no destination and
    /// runs once.
    /// </summary>
    private static async Task<List<ProbeOutcome>> RunProtocolAsync(SemaphoreSlim gate, PortMemory memory, IPEndPoint endpoint, ProxyProtocol p,
        IReadOnlyList<ProbeDestination> destinations, ProbeTimeouts t, CancellationToken ct)
    {
        var list = new List<ProbeOutcome>();
        foreach (var d in p == ProxyProtocol.SshBanner ? destinations.Take(1) : destinations)
        {
            if (list.Count > 0 && list[0].Result == ProbeResult.OtherProtocol)
            {
                list.Add(list[0] with { Destination = d.Describe, Summary = $"not tried: towards {list[0].Destination} {list[0].Summary}", Evidence = "" });
                continue;
            }
            var outcome = await GatedAsync(gate, endpoint, p, d, t, memory, ct).ConfigureAwait(false);
            if (outcome.TlsHandshakeFailed)
            {
                memory.TlsFailure ??= outcome;
            }
            list.Add(outcome);
        }
        return list;
    }

    private static async Task<ProbeOutcome> GatedAsync(SemaphoreSlim gate, IPEndPoint endpoint, ProxyProtocol p, ProbeDestination d, ProbeTimeouts t, PortMemory memory, CancellationToken ct)
    {
        try
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new ProbeOutcome(p, endpoint.Port, d.Describe, ProbeResult.NoAnswer, "not tried: the time allowed for this port ran out", "");
        }
        try
        {
            // Checked once through the gate: with one connection at a time the earlier handshake has finished.
            if (p.OverTls() && memory.TlsFailure is { } failed)
            {
                return failed with { Protocol = p, Destination = d.Describe, Summary = $"not tried: {failed.Summary} (seen by {failed.Protocol.Id()})", Evidence = "" };
            }
            var clock = Stopwatch.StartNew();
            var outcome = await RunBoundedAsync(endpoint, p, d, memory.For(t), ct).ConfigureAwait(false);
            memory.Answered(outcome, clock.Elapsed);
            return outcome;
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<ProbeOutcome> RunBoundedAsync(IPEndPoint endpoint, ProxyProtocol p, ProbeDestination d, ProbeTimeouts t, CancellationToken ct)
    {
        try
        {
            return await ProxyProbe.RunAsync(endpoint, p, d, t, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new ProbeOutcome(p, endpoint.Port, d.Describe, ProbeResult.NoAnswer, "stopped: the time allowed for this port ran out", "");
        }
    }

    /// <summary>A plain TCP connect first, so a closed port costs one connection, not one per protocol.</summary>
    private static async Task<(bool Reachable, string? Local, string Why)> ProbePortAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken ct)
    {
        using var s = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
            return (true, ((IPEndPoint)s.LocalEndPoint!).Address.ToString(), "open");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, null, $"no answer to a TCP connect within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            return (false, null, e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.SocketErrorCode.ToString());
        }
    }

    [GeneratedRegex(@"S: (?:Server|Via|Proxy-Agent): ([^\\\r\n]{1,80})", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SoftwareHeader();

    private static string? SoftwareFrom(IEnumerable<ProbeOutcome> outcomes)
    {
        foreach (var o in outcomes)
        {
            var m = SoftwareHeader().Match(o.Evidence);
            if (m.Success)
            {
                return m.Groups[1].Value.Trim();
            }
        }
        return null;
    }
}
