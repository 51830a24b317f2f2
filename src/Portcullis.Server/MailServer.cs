using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;
using Portcullis.Server.Delivery;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Smtp;
using Portcullis.Server.Tls;

namespace Portcullis.Server;

/// <summary>
/// The running mail server: directory, queue, certificate, listeners and delivery, started in that
/// order and stopped in reverse. `portcullis serve` hosts one of these until SIGTERM/SIGINT.
/// </summary>
public sealed class MailServer : IAsyncDisposable
{
    private readonly PortcullisSettings _settings;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<SmtpListener> _listeners = [];
    private readonly List<Task> _background = [];
    private IDirectoryStore? _directory;
    private IMessageQueue? _queue;
    private InlineLocalDelivery? _inline;
    private readonly Telemetry.ServerMetrics _metrics = new();

    public MailServer(PortcullisSettings settings, ILoggerFactory loggers)
    {
        _settings = settings;
        _loggers = loggers;
        _log = loggers.CreateLogger("portcullis");
    }

    public IReadOnlyList<SmtpListener> Listeners => _listeners;

    public async Task StartAsync(CancellationToken ct)
    {
        try
        {
            System.IO.Directory.CreateDirectory(_settings.Storage.DataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"storage.data_dir ({_settings.Storage.DataDir}): cannot create it: {e.Message}", e);
        }
        try
        {
            _directory = await SqliteDirectoryStore.OpenInDataDirAsync(_settings.Storage.DataDir, ct).ConfigureAwait(false);
        }
        catch (SqliteException e)
        {
            throw new InvalidOperationException($"directory database {Path.Combine(_settings.Storage.DataDir, SqliteDirectoryStore.FileName)}: {e.Message} (restore it from a backup)", e);
        }
        var snapshots = new DirectorySnapshotSource(_directory, TimeSpan.FromSeconds(1), _loggers.CreateLogger("portcullis.directory"));
        await snapshots.RefreshAsync(ct).ConfigureAwait(false);
        _background.Add(snapshots.RunAsync(_stopping.Token));
        if (snapshots.Current.Domains.Count == 0)
        {
            _log.LogWarning("no local domain is configured: every recipient will be refused (add one with `portcullis domain add DOMAIN`)");
        }

        var queueDir = Path.Combine(_settings.Storage.DataDir, "queue");
        try
        {
            _queue = SqliteMessageQueue.Open(queueDir, _loggers.CreateLogger("portcullis.queue"));
        }
        catch (SqliteException e)
        {
            // Never replaced by an empty one here: it holds messages that were acknowledged.
            throw new InvalidOperationException($"queue database {QueueAdmin.DatabasePath(_settings.Storage.DataDir)}: {e.Message} (it holds acknowledged messages: restore it from a backup, do not delete it)", e);
        }
        var (certificate, certSource) = CertificateProvider.Load(_settings);
        _log.LogInformation("TLS certificate {Source}, subject {Subject}, expires {Expiry:u}", certSource, certificate.Subject, certificate.NotAfter.ToUniversalTime());
        var left = certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow;
        if (left <= TimeSpan.Zero)
        {
            _log.LogWarning("TLS certificate {Source} expired on {Expiry:u}: clients that check certificates will not use TLS with this server; renew it (tls.cert_file)",
                certSource, certificate.NotAfter.ToUniversalTime());
        }
        else if (left < CertificateProvider.WarnBefore)
        {
            _log.LogWarning("TLS certificate {Source} expires in {Days:0.#} days ({Expiry:u}): renew it (tls.cert_file)", certSource, left.TotalDays, certificate.NotAfter.ToUniversalTime());
        }

        var directory = _directory;
        var maildirs = new MaildirWriter(_settings.Storage.DataDir, batchDurability: OperatingSystem.IsLinux() ? MaildirBatchDurability.SyncFs : MaildirBatchDurability.ParallelFsync);
        // Before any listener accepts and before the delivery agent looks for earlier copies: copies that a
        // crash left in tmp/ after their 250 go into new/ now.
        var recovery = maildirs.RecoverStaged();
        foreach (var path in recovery.Restored)
        {
            _log.LogWarning("recovered {Path}: complete in tmp/ after an unclean stop, now in new/", path);
        }
        foreach (var (path, error) in recovery.Failed)
        {
            _log.LogError("Maildir recovery could not finish {Path} (left for the next start): {Error}", path, error);
        }
        if (recovery.Released + recovery.Discarded > 0)
        {
            _log.LogInformation("Maildir recovery: {Released} tmp/ names of delivered copies removed, {Discarded} unfinished copies (never acknowledged) removed",
                recovery.Released, recovery.Discarded);
        }
        _inline = new InlineLocalDelivery(maildirs, _settings.Server.Hostname);
        var context = new ServerContext(_settings, () => snapshots.Current, _queue, certificate, _loggers.CreateLogger("portcullis.smtp"))
        {
            CatchUpDirectory = snapshots.CatchUpAsync,
            Stopping = _stopping.Token,
            SignOutbound = new Dkim.DkimSigning(_settings.Storage.DataDir).Sign,
            InlineDelivery = _inline,
            Metrics = _metrics,
            FindCredential = async (user, token) =>
            {
                try
                {
                    return await directory.GetCredentialAsync(user, token).ConfigureAwait(false);
                }
                catch (DirectoryException)
                {
                    return null; // not even a valid address: same answer as an unknown user
                }
            },
        };
        foreach (var (kind, endpoint) in new[] { (ListenerKind.Mx, _settings.Listeners.Mx), (ListenerKind.Submission, _settings.Listeners.Submission), (ListenerKind.Submissions, _settings.Listeners.Submissions) })
        {
            if (endpoint is null)
            {
                continue;
            }
            var listener = new SmtpListener(context, kind, endpoint);
            _listeners.Add(listener);
        }

        if (_settings.Server.User is { } user)
        {
            // The sockets are bound (ports below 1024 need root); from here on run as the configured user.
            Hosting.PrivilegeDrop.SwitchTo(user, _settings.Storage.DataDir);
            _log.LogInformation("running as user {User} from now on", user);
        }

        var local = new LocalDeliveryAgent(_queue, new MaildirMailboxDelivery(maildirs, _settings.Server.Hostname), _loggers.CreateLogger("portcullis.delivery"),
            _settings.Server.Hostname, _settings.Delivery.Lifetime, () => snapshots.Current, _metrics);
        _background.Add(local.RunAsync(_stopping.Token));
        var remote = new Remote.RemoteDeliveryAgent(_queue, _settings, () => snapshots.Current, _loggers.CreateLogger("portcullis.delivery.remote"), _metrics);
        _background.Add(remote.RunAsync(_stopping.Token));

        _metrics.ObserveListeners(() => _listeners.Select(l => (l.Kind, l.ActiveSessions, l.UnderStress)));
        var queue = _queue;
        // Gauges are read synchronously by the exporter's scrape thread (never a session's); the count is one
        // SELECT of two counts on the queue's read connection.
        _metrics.ObserveQueue(() => queue.CountAsync(CancellationToken.None).GetAwaiter().GetResult());
        foreach (var l in _listeners)
        {
            l.Start();
            _log.LogInformation("listening on {Endpoint} ({Kind})", l.Endpoint, l.Kind);
        }
        var (messages, pending) = await _queue.CountAsync(ct).ConfigureAwait(false);
        _log.LogInformation("Portcullis ready: host {Host}, data {DataDir}, queue {Messages} messages ({Pending} recipients pending)",
            _settings.Server.Hostname, _settings.Storage.DataDir, messages, pending);
    }

    public async Task StopAsync()
    {
        _log.LogInformation("shutting down");
        await _stopping.CancelAsync().ConfigureAwait(false);
        // Together, so that the grace for open sessions is five seconds in all, not five per listener.
        await Task.WhenAll(_listeners.Select(l => l.StopAsync(TimeSpan.FromSeconds(5)))).ConfigureAwait(false);
        await Task.WhenAll(_background).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners)
        {
            await l.DisposeAsync().ConfigureAwait(false);
        }
        if (_inline is not null)
        {
            await _inline.DisposeAsync().ConfigureAwait(false);
        }
        if (_queue is not null)
        {
            await _queue.DisposeAsync().ConfigureAwait(false);
        }
        if (_directory is not null)
        {
            await _directory.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
        _metrics.Dispose();
    }
}
