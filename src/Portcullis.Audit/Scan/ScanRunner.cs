using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Scan;

public sealed record ScanOptions
{
    public DiscoveryOptions Discovery { get; init; } = new();
    public bool Smtp { get; init; }
    public bool Proxy { get; init; }
    /// <summary>Ports that get the SMTP audit; every other open port gets the proxy audit (with --proxy).</summary>
    public IReadOnlySet<int> SmtpPorts { get; init; } = new HashSet<int> { 25, 587 };
    /// <summary>Hosts audited at once; one host's audits run one after another, each with one connection at a time.</summary>
    public int AuditConcurrency { get; init; } = 64;
    public ProxyAuditOptions ProxyAudit { get; init; } = new();
    public IReadOnlyList<ProbeDestination> ProxyDestinations { get; init; } = [];
    /// <summary>The SMTP audit run on each open SMTP port.</summary>
    public required Func<IPEndPoint, CancellationToken, Task<AuditReport>> SmtpAudit { get; init; }
}

public enum ScanPhase { Discovery, Audit, Done }

/// <summary>The outcome of a scan: open ports, the audit reports, and how long each phase took.</summary>
public sealed record ScanResult(IReadOnlyList<OpenPort> Opens, IReadOnlyList<AuditReport> Reports, long Tried, long Filtered,
    TimeSpan DiscoveryTime, TimeSpan AuditTime, bool Cancelled);

/// <summary>
/// A scan in two phases: discovery (SYN or TCP connect) over every (address, port), then the SMTP and proxy audits
/// on what answered. Progress is read from the properties while it runs; every finding goes to the journal
/// as it happens.
/// </summary>
public sealed class ScanRunner(EndpointSpace space, ScanOptions options, ScanJournal? journal, ResumeState? resume)
{
    private readonly ConcurrentDictionary<string, OpenPort> _opens = new(
        (resume?.Opens ?? []).Select(o => KeyValuePair.Create(o.Key, o)));
    private int _auditsDone;
    private int _auditsTotal;
    private int _auditsOpen;

    public ScanPhase Phase { get; private set; } = ScanPhase.Discovery;
    public IPortDiscovery? Discovery { get; private set; }
    public int AuditsDone => Volatile.Read(ref _auditsDone);
    public int AuditsTotal => Volatile.Read(ref _auditsTotal);
    public int AuditsOpen => Volatile.Read(ref _auditsOpen);
    public int OpenPorts => _opens.Count;

    public string ServiceFor(int port) =>
        options.Smtp && options.SmtpPorts.Contains(port) ? "smtp" : options.Proxy ? "proxy" : "none";

    public async Task<ScanResult> RunAsync(CancellationToken ct)
    {
        var discoveryClock = Stopwatch.StartNew();
        long tried = 0, filtered = 0;
        if (resume is not { DiscoveryDone: true })
        {
            var discovery = DiscoveryChoice.Create(space, options.Discovery, resume?.Checkpoint ?? 0);
            Discovery = discovery;
            using var checkpoints = new CancellationTokenSource();
            var checkpointLoop = CheckpointLoopAsync(discovery, checkpoints.Token);
            await discovery.RunAsync((ep, index) =>
            {
                var p = new OpenPort(ep.Address, ep.Port, index, ServiceFor(ep.Port));
                if (_opens.TryAdd(p.Key, p))
                {
                    journal?.Open(p);
                }
                return ValueTask.CompletedTask;
            }, ct).ConfigureAwait(false);
            await checkpoints.CancelAsync().ConfigureAwait(false);
            await checkpointLoop.ConfigureAwait(false);
            // Only what this run tried (a resumed run starts at the checkpoint), so rates stay honest.
            tried = discovery.Done - (resume?.Checkpoint ?? 0);
            filtered = discovery.Filtered;
            if (ct.IsCancellationRequested)
            {
                journal?.Checkpoint(discovery.Watermark);
                return Result(tried, filtered, discoveryClock.Elapsed, TimeSpan.Zero, cancelled: true, []);
            }
            journal?.Checkpoint(space.Count);
            journal?.DiscoveryDone(tried, _opens.Count, discoveryClock.Elapsed.TotalSeconds);
        }
        discoveryClock.Stop();

        Phase = ScanPhase.Audit;
        var auditClock = Stopwatch.StartNew();
        var reports = new ConcurrentBag<AuditReport>(resume?.Reports ?? []);
        var todo = _opens.Values.Where(o => o.Service != "none" && resume?.Reported(o) != true).OrderBy(o => o.Index).ToList();
        _auditsTotal = todo.Count;
        try
        {
            // Politeness (catalog §6.2 step 5, issues 4 and 5): one host's audits run one after another, so
            // a host never sees two audit connections at once; --audit-concurrency hosts are audited side by side.
            var hosts = todo.GroupBy(o => o.Address).Select(g => g.ToList()).ToList();
            await Parallel.ForEachAsync(hosts, new ParallelOptions { MaxDegreeOfParallelism = options.AuditConcurrency, CancellationToken = ct }, async (host, token) =>
            {
                foreach (var p in host)
                {
                    token.ThrowIfCancellationRequested();
                    await AuditOneAsync(p, reports, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Result(tried, filtered, discoveryClock.Elapsed, auditClock.Elapsed, cancelled: true, reports);
        }
        Phase = ScanPhase.Done;
        var result = Result(tried, filtered, discoveryClock.Elapsed, auditClock.Elapsed, cancelled: false, reports);
        journal?.Done(result.Reports.Count, result.Reports.Count(r => r.Verdict == Verdict.Open), discoveryClock.Elapsed.TotalSeconds + auditClock.Elapsed.TotalSeconds);
        return result;
    }

    private async Task AuditOneAsync(OpenPort p, ConcurrentBag<AuditReport> reports, CancellationToken token)
    {
        var report = p.Service == "smtp"
            ? await options.SmtpAudit(p.EndPoint, token).ConfigureAwait(false)
            : (await ProxyAuditor.AuditAsync(ProxyHandshake.Authority(p.Address.ToString(), p.Port), p.Address, [p.Port],
                options.ProxyDestinations, options.ProxyAudit, token).ConfigureAwait(false)) with
            { Audit = "proxy" };
        reports.Add(report);
        journal?.Report(report);
        if (report.Verdict == Verdict.Open)
        {
            Interlocked.Increment(ref _auditsOpen);
        }
        Interlocked.Increment(ref _auditsDone);
    }

    private ScanResult Result(long tried, long filtered, TimeSpan discovery, TimeSpan audit, bool cancelled, IEnumerable<AuditReport> reports) =>
        new([.. _opens.Values.OrderBy(o => o.Index)],
            [.. reports.OrderBy(r => r.Address is { } a && IPAddress.TryParse(a, out var ip) ? AddressBlock.ToNumber(ip) : UInt128.MaxValue)
                .ThenBy(r => r.Checks.FirstOrDefault()?.Port ?? 0)],
            tried, filtered, discovery, audit, cancelled);

    /// <summary>Once a second, record how far discovery got, so --resume restarts from there.</summary>
    private async Task CheckpointLoopAsync(IPortDiscovery discovery, CancellationToken ct)
    {
        if (journal is null)
        {
            return;
        }
        long last = -1;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var mark = discovery.Watermark;
                if (mark != last)
                {
                    journal.Checkpoint(mark);
                    last = mark;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // discovery finished
        }
    }
}
