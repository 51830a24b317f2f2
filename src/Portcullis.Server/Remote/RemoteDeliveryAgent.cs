using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Remote;

/// <summary>
/// Delivers the queue's remote recipients (RecipientRoute.Remote). It claims due recipients, groups them
/// by destination (the recipient's domain, or the smarthost), and runs one job per destination — at most
/// delivery.concurrency at once — that resolves the MX hosts, keeps one connection open while work for
/// that destination keeps arriving, and records every recipient's result: 250 delivered; 5xx failed at
/// once; 4xx or a connection failure retried with exponential backoff until delivery.lifetime. A final
/// failure queues a DSN to the sender in the same commit that retires the recipient (crash safety).
/// </summary>
public sealed partial class RemoteDeliveryAgent
{
    private const int ClaimSize = 1000;
    /// <summary>
    /// Connections to one busy destination at once. A backlog is spread over more connections only in
    /// steps of <see cref="MessagesPerExtraConnection"/> messages, so light traffic shares one connection
    /// (Postfix opens up to 20 per destination; a few suffice to hide the round trips).
    /// </summary>
    private const int MaxConnectionsPerDestination = 4;
    private const int MessagesPerExtraConnection = 50;
    /// <summary>How long an idle connection waits for more work for its destination before QUIT.</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(1);

    private readonly IMessageQueue _queue;
    private readonly PortcullisSettings _settings;
    private readonly Func<DirectorySnapshot> _directory;
    private readonly ILogger _logger;
    private readonly MxResolver _resolver;
    private readonly NextHop _hop;
    private readonly OwnEndpoints _own;
    private readonly SemaphoreSlim _slots;
    private readonly Dictionary<string, List<DestinationJob>> _jobs = new(StringComparer.Ordinal);
    private readonly List<Task> _running = [];
    private readonly Telemetry.ServerMetrics? _metrics;

    public RemoteDeliveryAgent(IMessageQueue queue, PortcullisSettings settings, Func<DirectorySnapshot> directory, ILogger logger, Telemetry.ServerMetrics? metrics = null)
    {
        _metrics = metrics;
        _queue = queue;
        _settings = settings;
        _directory = directory;
        _logger = logger;
        _resolver = new MxResolver(settings.Delivery.DnsServers);
        _hop = NextHop.From(settings.Delivery);
        _own = new OwnEndpoints(settings.Listeners);
        _slots = new SemaphoreSlim(settings.Delivery.Concurrency, settings.Delivery.Concurrency);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        LogStarted(_hop.IsSmarthost ? $"smarthost {_hop.SmarthostHost}:{_hop.Port} tls={_settings.Delivery.RelayTls}" : $"MX port {_hop.Port}, opportunistic STARTTLS",
            _settings.Delivery.Concurrency);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var work = await _queue.ClaimDueAsync(ClaimSize, DateTimeOffset.UtcNow, RecipientRoute.Remote, ct).ConfigureAwait(false);
                if (work.Count == 0)
                {
                    await _queue.WaitForWorkAsync(RecipientRoute.Remote, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                    continue;
                }
                foreach (var group in work.GroupBy(DestinationOf))
                {
                    await DispatchAsync(group.Key, group.ToList(), ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "remote delivery pass failed; retrying in 5 s");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        Task[] running;
        lock (_jobs)
        {
            running = [.. _running];
        }
        // The jobs have stopped taking work; their claimed recipients stay pending in the queue.
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private string DestinationOf(DeliveryWork w)
    {
        if (_hop.IsSmarthost)
        {
            return "smarthost";
        }
        var at = w.Address.LastIndexOf('@');
        return RecipientPolicy.NormalizeDomain(at < 0 ? w.Address : w.Address[(at + 1)..]);
    }

    /// <summary>
    /// Hands work to the jobs of its destination: to a running job (the least loaded) when there is one,
    /// and to new jobs — more connections — only for a large backlog and while slots are free.
    /// </summary>
    private async Task DispatchAsync(string destination, List<DeliveryWork> work, CancellationToken ct)
    {
        var messages = work.GroupBy(w => w.MessageId).ToList();
        var parts = Math.Clamp((messages.Count + MessagesPerExtraConnection - 1) / MessagesPerExtraConnection, 1, MaxConnectionsPerDestination);
        var chunks = Enumerable.Range(0, parts).Select(i => messages.Where((_, j) => j % parts == i).SelectMany(g => g).ToList());
        foreach (var chunk in chunks)
        {
            lock (_jobs)
            {
                if (_jobs.TryGetValue(destination, out var running) && running.Count > 0)
                {
                    if (parts > 1 && running.Count < MaxConnectionsPerDestination && _slots.Wait(0))
                    {
                        Start(destination, chunk, ct);
                    }
                    else
                    {
                        running.MinBy(j => j.PendingCount)!.Add(chunk);
                    }
                    continue;
                }
            }
            await _slots.WaitAsync(ct).ConfigureAwait(false);
            lock (_jobs)
            {
                Start(destination, chunk, ct);
            }
        }
    }

    /// <summary>Starts a job (the caller holds a slot and the lock).</summary>
    private void Start(string destination, List<DeliveryWork> work, CancellationToken ct)
    {
        var job = new DestinationJob(destination);
        job.Add(work);
        if (!_jobs.TryGetValue(destination, out var list))
        {
            _jobs[destination] = list = [];
        }
        list.Add(job);
        _running.RemoveAll(t => t.IsCompleted);
        _running.Add(Task.Run(() => RunJobAsync(job, ct), CancellationToken.None));
    }

    private async Task RunJobAsync(DestinationJob job, CancellationToken ct)
    {
        await using var connection = new DestinationConnection(job.Destination, _hop, _own, _settings.Server.Hostname, _logger);
        MxRoute? route = null;
        // Results are committed while the connection goes on with the next messages (the queue's group
        // commit shares one write among them); the job ends only after every one is recorded.
        var recording = new List<Task>();
        try
        {
            while (true)
            {
                List<DeliveryWork> batch;
                lock (_jobs)
                {
                    batch = job.Take();
                    if (batch.Count == 0 && job.Idle)
                    {
                        Forget(job);
                        break;
                    }
                }
                if (batch.Count == 0)
                {
                    // Keep the connection for a moment: more mail for this destination is likely (one
                    // connection reused for several messages).
                    job.Idle = !await job.WaitForMoreAsync(connection.IsConnected ? Linger : TimeSpan.Zero, ct).ConfigureAwait(false);
                    continue;
                }
                job.Idle = false;
                var attempts = new List<RecipientAttempt>();
                route ??= _hop.IsSmarthost ? _hop.SmarthostRoute() : await _resolver.ResolveAsync(job.Destination, ct).ConfigureAwait(false);
                if (route.Failure is { } dnsFailure)
                {
                    attempts.AddRange(batch.Select(w => new RecipientAttempt(w, dnsFailure, null)));
                    route = null;
                }
                else
                {
                    foreach (var message in batch.GroupBy(w => w.MessageId))
                    {
                        if (!connection.IsConnected && await connection.ConnectAsync(route, ct).ConfigureAwait(false) is { } connectFailure)
                        {
                            attempts.AddRange(message.Select(w => new RecipientAttempt(w, connectFailure, null)));
                            continue;
                        }
                        attempts.AddRange(await connection.SendAsync(message.ToList(), ct).ConfigureAwait(false));
                    }
                }
                recording.RemoveAll(t => t.IsCompletedSuccessfully);
                recording.Add(RecordAsync(attempts, ct));
            }
            await Task.WhenAll(recording).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown: claimed but unrecorded recipients stay pending in the queue and are tried after restart.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "delivery to {Destination} failed unexpectedly; its recipients are retried later", job.Destination);
        }
        finally
        {
            lock (_jobs)
            {
                Forget(job);
            }
            _slots.Release();
        }
    }

    /// <summary>Removes a job from its destination's list (the caller holds the lock).</summary>
    private void Forget(DestinationJob job)
    {
        if (_jobs.TryGetValue(job.Destination, out var list) && list.Remove(job) && list.Count == 0)
        {
            _jobs.Remove(job.Destination);
        }
    }

    /// <summary>
    /// Turns attempts into queue results: delivered, deferred with backoff, or failed (a temporary failure
    /// past delivery.lifetime fails too). Failures that may be reported become one DSN per message, queued
    /// in the same commit.
    /// </summary>
    private async Task RecordAsync(List<RecipientAttempt> attempts, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var results = new List<AttemptResult>(attempts.Count);
        var failed = new List<(DeliveryWork Work, FailedRecipient Failed)>();
        var relayed = new List<(DeliveryWork Work, DsnRecipient Relayed)>();
        foreach (var a in attempts)
        {
            var w = a.Work;
            var id = QueueIdGenerator.Format(w.MessageId);
            if (a.Failure is null)
            {
                results.Add(new AttemptResult(w.MessageId, w.RecipientIndex, AttemptOutcome.Delivered, a.Reply));
                LogDelivered(id, w.Address, a.Reply ?? "");
                _metrics?.Delivery(Telemetry.DeliveryAgentKind.Remote, AttemptOutcome.Delivered);
                if (!a.NextHopTakesDsn && SuccessReport.Wanted(w))
                {
                    relayed.Add((w, SuccessReport.Relayed(w, a.RemoteMta ?? "", a.Reply ?? "250", now)));
                }
                continue;
            }
            var failure = a.Failure;
            if (!failure.Permanent && now - w.ReceivedAt >= _settings.Delivery.Lifetime)
            {
                // RFC 5321 §4.5.4.1: give up after the queue lifetime; X.4.7 is "delivery time expired" (RFC 3463).
                failure = failure with { Status = "4.4.7", Diagnostic = $"gave up after {_settings.Delivery.Lifetime.TotalDays:0.##} days in the queue; last error: {failure.Diagnostic}" };
                failure = failure with { Permanent = true };
            }
            if (!failure.Permanent)
            {
                var retryAt = now + RetrySchedule.Delay(w.Attempts, _settings.Delivery);
                results.Add(new AttemptResult(w.MessageId, w.RecipientIndex, AttemptOutcome.Deferred, failure.ToString(), retryAt));
                LogDeferred(id, w.Address, failure.Status, failure.ToString(), retryAt);
                _metrics?.Delivery(Telemetry.DeliveryAgentKind.Remote, AttemptOutcome.Deferred);
                continue;
            }
            results.Add(new AttemptResult(w.MessageId, w.RecipientIndex, AttemptOutcome.Failed, failure.ToString()));
            _metrics?.Delivery(Telemetry.DeliveryAgentKind.Remote, AttemptOutcome.Failed);
            var reported = BounceReport.MayReport(w);
            LogFailed(id, w.Address, failure.Status, failure.ToString(), reported ? "bounce to <" + w.Sender + ">" : "no bounce (" + (w.Sender.Length == 0 || w.IsBounce ? "message is a bounce" : "NOTIFY") + ")");
            if (reported)
            {
                failed.Add((w, new FailedRecipient(w.Address, w.OriginalRecipient, failure, now)));
            }
        }
        var bounces = new List<QueuedMessage>();
        var directory = _directory();
        foreach (var (notice, original) in DeliveryStatusReport.PerMessage(failed, (o, f) => BounceReport.Build(_settings.Server.Hostname, o, f, now), _queue.NewId, directory, now))
        {
            bounces.Add(notice);
            LogBounce(QueueIdGenerator.Format(notice.Id), QueueIdGenerator.Format(original.MessageId), original.Sender);
        }
        foreach (var (notice, original) in DeliveryStatusReport.PerMessage(relayed, (o, r) => SuccessReport.Build(_settings.Server.Hostname, o, r, now), _queue.NewId, directory, now))
        {
            bounces.Add(notice);
            LogSuccessNotice(QueueIdGenerator.Format(notice.Id), QueueIdGenerator.Format(original.MessageId), original.Sender, "relayed");
        }
        await _queue.CompleteAsync(results, bounces, ct).ConfigureAwait(false);
    }

    /// <summary>Work for one destination; guarded by the agent's lock except for the wake-up signal.</summary>
    private sealed class DestinationJob(string destination)
    {
        private readonly List<DeliveryWork> _pending = [];
        private readonly SemaphoreSlim _more = new(0, int.MaxValue);

        public string Destination { get; } = destination;
        /// <summary>Set when the job waited and nothing came: the next empty take ends it.</summary>
        public bool Idle { get; set; }

        public int PendingCount => _pending.Count;

        public void Add(List<DeliveryWork> work)
        {
            _pending.AddRange(work);
            Idle = false;
            _more.Release();
        }

        public List<DeliveryWork> Take()
        {
            var batch = new List<DeliveryWork>(_pending);
            _pending.Clear();
            return batch;
        }

        public Task<bool> WaitForMoreAsync(TimeSpan max, CancellationToken ct) => _more.WaitAsync(max, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "remote delivery: {Route}, {Concurrency} destinations at once")]
    private partial void LogStarted(string route, int concurrency);

    [LoggerMessage(Level = LogLevel.Information, Message = "delivered id={Id} to=<{To}> status=sent ({Reply})")]
    private partial void LogDelivered(string id, string to, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "deferred id={Id} to=<{To}> dsn={Status} ({Error}) retry at {RetryAt:u}")]
    private partial void LogDeferred(string id, string to, string status, string error, DateTimeOffset retryAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "failed id={Id} to=<{To}> dsn={Status} ({Error}); {Report}")]
    private partial void LogFailed(string id, string to, string status, string error, string report);

    [LoggerMessage(Level = LogLevel.Information, Message = "bounce id={Id} for id={Original} queued to <{Sender}>")]
    private partial void LogBounce(string id, string original, string sender);

    [LoggerMessage(Level = LogLevel.Information, Message = "success notice id={Id} for id={Original} to=<{Sender}> action={Action} (NOTIFY=SUCCESS)")]
    private partial void LogSuccessNotice(string id, string original, string sender, string action);
}
