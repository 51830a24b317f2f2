using System.Diagnostics.Metrics;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Telemetry;

namespace Portcullis.Server.Tests.Telemetry;

public sealed class ServerMetricsTests
{
    /// <summary>Listens to one ServerMetrics instance (tests run in parallel, each with its own meter) and sums what it records.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, long Value, Dictionary<string, string> Tags)> _seen = [];

        public Recorder(ServerMetrics metrics)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
            _listener.Start();
        }

        private void Record(Instrument i, long v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var t = new Dictionary<string, string>();
            foreach (var kv in tags)
            {
                t[kv.Key] = kv.Value?.ToString() ?? "";
            }
            lock (_seen)
            {
                _seen.Add((i.Name, v, t));
            }
        }

        public void Collect() => _listener.RecordObservableInstruments();

        public long Sum(string name, params (string Key, string Value)[] tags)
        {
            lock (_seen)
            {
                return _seen.Where(s => s.Name == name && tags.All(t => s.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(s => s.Value);
            }
        }

        public IReadOnlyList<Dictionary<string, string>> TagsOf(string name)
        {
            lock (_seen)
            {
                return _seen.Where(s => s.Name == name).Select(s => s.Tags).ToList();
            }
        }

        public void Clear()
        {
            lock (_seen)
            {
                _seen.Clear();
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void Refusals_are_counted_per_listener_and_rule()
    {
        using var metrics = new ServerMetrics();
        using var r = new Recorder(metrics);
        metrics.Refused(ListenerKind.Mx, "relay-denied");
        metrics.Refused(ListenerKind.Mx, "relay-denied");
        metrics.Refused(ListenerKind.Submission, "relay-denied");
        metrics.Refused(ListenerKind.Mx, "unknown-user");
        Assert.Equal(2, r.Sum("portcullis.smtp.refusals", ("listener", "mx"), ("rule", "relay-denied")));
        Assert.Equal(1, r.Sum("portcullis.smtp.refusals", ("listener", "submission"), ("rule", "relay-denied")));
        Assert.Equal(1, r.Sum("portcullis.smtp.refusals", ("listener", "mx"), ("rule", "unknown-user")));
    }

    [Fact]
    public void Sessions_messages_auth_and_deliveries_carry_their_labels()
    {
        using var metrics = new ServerMetrics();
        using var r = new Recorder(metrics);
        metrics.SessionEnded(ListenerKind.Submissions, "stress-timeout");
        metrics.MessageAccepted(ListenerKind.Mx, inMailboxes: true);
        metrics.MessageAccepted(ListenerKind.Submission, inMailboxes: false);
        metrics.Authenticated(ListenerKind.Submission, "PLAIN", ok: false);
        metrics.Delivery(DeliveryAgentKind.Local, AttemptOutcome.Delivered, 3);
        metrics.Delivery(DeliveryAgentKind.Remote, AttemptOutcome.Deferred);
        metrics.Delivery(DeliveryAgentKind.Remote, AttemptOutcome.Failed);
        Assert.Equal(1, r.Sum("portcullis.smtp.sessions", ("listener", "submissions"), ("end", "stress-timeout")));
        Assert.Equal(1, r.Sum("portcullis.smtp.messages", ("listener", "mx"), ("stored", "mailbox")));
        Assert.Equal(1, r.Sum("portcullis.smtp.messages", ("listener", "submission"), ("stored", "queue")));
        Assert.Equal(1, r.Sum("portcullis.smtp.auth", ("listener", "submission"), ("mechanism", "PLAIN"), ("result", "failed")));
        Assert.Equal(3, r.Sum("portcullis.delivery.recipients", ("agent", "local"), ("outcome", "delivered")));
        Assert.Equal(1, r.Sum("portcullis.delivery.recipients", ("agent", "remote"), ("outcome", "deferred")));
        Assert.Equal(1, r.Sum("portcullis.delivery.recipients", ("agent", "remote"), ("outcome", "failed")));
    }

    [Fact]
    public void Listener_gauges_read_the_open_sessions_and_stress_when_collected()
    {
        using var metrics = new ServerMetrics();
        var state = new List<(ListenerKind, int, bool)> { (ListenerKind.Mx, 7, true), (ListenerKind.Submission, 2, false) };
        metrics.ObserveListeners(() => state);
        using var r = new Recorder(metrics);
        r.Collect();
        Assert.Equal(7, r.Sum("portcullis.smtp.sessions.active", ("listener", "mx")));
        Assert.Equal(2, r.Sum("portcullis.smtp.sessions.active", ("listener", "submission")));
        Assert.Equal(1, r.Sum("portcullis.smtp.stress", ("listener", "mx")));
        Assert.Equal(0, r.Sum("portcullis.smtp.stress", ("listener", "submission")));
        state[0] = (ListenerKind.Mx, 0, false);
        r.Clear();
        r.Collect();
        Assert.Equal(0, r.Sum("portcullis.smtp.sessions.active", ("listener", "mx")));
        Assert.Equal(0, r.Sum("portcullis.smtp.stress", ("listener", "mx")));
    }

    [Fact]
    public void Queue_gauges_share_one_count_per_collection()
    {
        using var metrics = new ServerMetrics();
        var counts = 0;
        metrics.ObserveQueue(() => { counts++; return (12, 30); });
        using var r = new Recorder(metrics);
        r.Collect();
        Assert.Equal(12, r.Sum("portcullis.queue.messages"));
        Assert.Equal(30, r.Sum("portcullis.queue.recipients.pending"));
        Assert.Equal(1, counts);
    }

    [Fact]
    public void Listener_labels_are_the_names_of_their_settings()
    {
        // As in listeners.mx, listeners.submission, listeners.submissions.
        Assert.Equal(["mx", "submission", "submissions"], Enum.GetValues<ListenerKind>().Select(ListenerKindNames.SettingName));
    }
}
