using System.Diagnostics.Metrics;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;

namespace Portcullis.Server.Telemetry;

/// <summary>
/// The server's counters and gauges for monitoring: the log's session, refusal, message and delivery lines summed,
/// plus what is open right now (sessions, stress, the queue). System.Diagnostics.Metrics instruments cost next to
/// nothing while nobody listens; `portcullis serve` exports them in Prometheus's format when `listeners.metrics`
/// is set. Every label value comes from a fixed set (listener names, the log's rule and end names, delivery
/// outcomes), never from what a client sent, so a client cannot make the series grow.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    /// <summary>The meter every instrument belongs to (what an exporter subscribes to).</summary>
    public const string MeterName = "Portcullis";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _sessions;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _auth;
    private readonly Counter<long> _deliveries;

    /// <summary>The meter itself, for tests that listen to this instance only.</summary>
    internal Meter Meter => _meter;

    public ServerMetrics()
    {
        _sessions = _meter.CreateCounter<long>("portcullis.smtp.sessions", "{session}",
            "SMTP sessions ended, by listener and by how they ended (the end= of the session log line).");
        _refusals = _meter.CreateCounter<long>("portcullis.smtp.refusals", "{refusal}",
            "Refused connections, recipients, commands and messages, by listener and by the rule that refused (the rule= of the refusal log line).");
        _messages = _meter.CreateCounter<long>("portcullis.smtp.messages", "{message}",
            "Messages acknowledged with 250 after DATA, by listener and by where they were stored before the 250 (mailbox: every copy already in its Maildir; queue).");
        _auth = _meter.CreateCounter<long>("portcullis.smtp.auth", "{attempt}",
            "AUTH attempts on the submission listeners, by mechanism and result (ok, failed).");
        _deliveries = _meter.CreateCounter<long>("portcullis.delivery.recipients", "{recipient}",
            "Delivery attempts per recipient, by agent (local: Maildir, remote: another MX or the relay host) and outcome (delivered, deferred, failed).");
    }

    public void SessionEnded(ListenerKind listener, string end) =>
        _sessions.Add(1, new KeyValuePair<string, object?>("listener", listener.SettingName()), new KeyValuePair<string, object?>("end", end));

    public void Refused(ListenerKind listener, string rule) =>
        _refusals.Add(1, new KeyValuePair<string, object?>("listener", listener.SettingName()), new KeyValuePair<string, object?>("rule", rule));

    public void MessageAccepted(ListenerKind listener, bool inMailboxes) =>
        _messages.Add(1, new KeyValuePair<string, object?>("listener", listener.SettingName()), new KeyValuePair<string, object?>("stored", inMailboxes ? "mailbox" : "queue"));

    public void Authenticated(ListenerKind listener, string mechanism, bool ok) =>
        _auth.Add(1, new KeyValuePair<string, object?>("listener", listener.SettingName()), new KeyValuePair<string, object?>("mechanism", mechanism),
            new KeyValuePair<string, object?>("result", ok ? "ok" : "failed"));

    public void Delivery(DeliveryAgentKind agent, AttemptOutcome outcome, int recipients = 1) =>
        _deliveries.Add(recipients, new KeyValuePair<string, object?>("agent", agent == DeliveryAgentKind.Local ? "local" : "remote"),
            new KeyValuePair<string, object?>("outcome", outcome switch
            {
                AttemptOutcome.Delivered => "delivered",
                AttemptOutcome.Deferred => "deferred",
                _ => "failed",
            }));

    /// <summary>Gauges read when the exporter collects: open sessions and stress per listener.</summary>
    public void ObserveListeners(Func<IEnumerable<(ListenerKind Kind, int Sessions, bool UnderStress)>> listeners)
    {
        _meter.CreateObservableGauge("portcullis.smtp.sessions.active", () => listeners().Select(l =>
            new Measurement<long>(l.Sessions, new KeyValuePair<string, object?>("listener", l.Kind.SettingName()))), "{session}",
            "Open SMTP sessions per listener.");
        _meter.CreateObservableGauge("portcullis.smtp.stress", () => listeners().Select(l =>
            new Measurement<int>(l.UnderStress ? 1 : 0, new KeyValuePair<string, object?>("listener", l.Kind.SettingName()))), "",
            "1 while the listener is under stress (limits.stress_timeout applies), else 0.");
    }

    /// <summary>Gauges read when the exporter collects: messages in the queue and recipients still to deliver.</summary>
    public void ObserveQueue(Func<(int Messages, int PendingRecipients)> count)
    {
        // One count serves both gauges of a collection (they are read within microseconds of each other).
        var gate = new object();
        (int Messages, int PendingRecipients) last = default;
        var readAt = long.MinValue;
        (int Messages, int PendingRecipients) Read()
        {
            lock (gate)
            {
                if (System.Diagnostics.Stopwatch.GetElapsedTime(readAt) > TimeSpan.FromSeconds(1) || readAt == long.MinValue)
                {
                    last = count();
                    readAt = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                return last;
            }
        }
        _meter.CreateObservableGauge("portcullis.queue.messages", () => Read().Messages, "{message}",
            "Messages in the queue (mail for other domains, and local mail not delivered before its 250).");
        _meter.CreateObservableGauge("portcullis.queue.recipients.pending", () => Read().PendingRecipients, "{recipient}",
            "Recipients of queued messages still to be delivered.");
    }

    public void Dispose() => _meter.Dispose();
}

public enum DeliveryAgentKind
{
    Local,
    Remote,
}
