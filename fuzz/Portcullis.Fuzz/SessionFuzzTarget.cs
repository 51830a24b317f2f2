using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Smtp;

namespace Portcullis.Fuzz;

/// <summary>
/// A whole SMTP session of the server fed a client's bytes: the state table, the recipient policy, the
/// limits, AUTH's decoders and the queue hand-off, not just the parsers. The client's bytes come from a
/// stream that ends where the input ends; the replies are thrown away. The session catches what a broken
/// client can cause; what it logs as an error ("session ... failed": an exception it did not expect) is a
/// bug, and so is a session that does not end once the input has.
/// </summary>
public static class SessionFuzzTarget
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["smtp-session-mx"] = data => Run(data, ListenerKind.Mx),
        ["smtp-session-submission"] = data => Run(data, ListenerKind.Submission),
    };

    // Lazy: an instrumented assembly's code must not run before SharpFuzz has set up afl's shared memory
    // (it crashes with an access violation), and the target table is built before that.
    private static readonly Lazy<PortcullisSettings> Settings = new(() => new()
    {
        Server = new ServerSection { Hostname = "mx.example.test", Postmaster = "alice@example.test" },
        Storage = new StorageSection { DataDir = Path.GetTempPath() },
        Listeners = new ListenersSection(),
        Tls = new TlsSection(),
        Limits = new LimitsSection(),
        Relay = new RelaySection(),
    });

    private static readonly Lazy<DirectorySnapshot> Directory = new(() => new(["example.test"], ["alice@example.test"], [new("sales@example.test", "alice@example.test")]));

    public static void Run(byte[] data, ListenerKind listener)
    {
        var log = new ErrorRecorder();
        var directory = Directory.Value;
        var context = new ServerContext(Settings.Value, () => directory, new DiscardingQueue(), certificate: null, log);
        using var client = new ClientBytes(data);
        var session = new SmtpSession(context, client, new IPEndPoint(IPAddress.Parse("192.0.2.7"), 40000), listener, () => false);
        session.RunAsync().GetAwaiter().GetResult();
        if (log.FirstError is { } error)
        {
            throw new InvalidOperationException("the session logged an error: " + error.Message, error.Exception);
        }
    }

    /// <summary>Reads the fuzz input, then end of stream; swallows every write.</summary>
    private sealed class ClientBytes(byte[] data) : MemoryStream(data, writable: false)
    {
        public override bool CanWrite => true;

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A queue that takes every message at once and holds nothing.</summary>
    private sealed class DiscardingQueue : IMessageQueue
    {
        private long _id;

        public long NewId() => Interlocked.Increment(ref _id);

        public Task EnqueueAsync(QueuedMessage message, CancellationToken ct) => Task.CompletedTask;

        public Task<IReadOnlyList<DeliveryWork>> ClaimDueAsync(int max, DateTimeOffset now, RecipientRoute route, CancellationToken ct) => Task.FromResult<IReadOnlyList<DeliveryWork>>([]);

        public Task CompleteAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct) => Task.CompletedTask;

        public Task CompleteAsync(IReadOnlyList<AttemptResult> results, IReadOnlyList<QueuedMessage> bounces, CancellationToken ct) => Task.CompletedTask;

        public Task WaitForWorkAsync(TimeSpan max, CancellationToken ct) => Task.CompletedTask;

        public Task WaitForWorkAsync(RecipientRoute route, TimeSpan max, CancellationToken ct) => Task.CompletedTask;

        public Task<(int Messages, int PendingRecipients)> CountAsync(CancellationToken ct) => Task.FromResult((0, 0));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Keeps the first line logged at Error or above.</summary>
    private sealed class ErrorRecorder : ILogger
    {
        public (string Message, Exception? Exception)? FirstError { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && FirstError is null)
            {
                FirstError = (formatter(state, exception), exception);
            }
        }
    }
}
