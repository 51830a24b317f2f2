using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Portcullis.Server.Directory;

/// <summary>
/// Keeps the running server's <see cref="DirectorySnapshot"/> current: polls the store's change counter
/// (one tiny query) every <c>interval</c> and loads a new snapshot only when it moved, so a
/// `portcullis user add` in another process is seen within about one interval. Readers take
/// <see cref="Current"/> once per decision; swapping the reference is atomic.
/// </summary>
public sealed class DirectorySnapshotSource
{
    private readonly IDirectoryStore _store;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private volatile DirectorySnapshot _current = DirectorySnapshot.Empty;
    private long _version = -1;

    public DirectorySnapshotSource(IDirectoryStore store, TimeSpan? interval = null, ILogger? logger = null)
    {
        _store = store;
        _interval = interval ?? TimeSpan.FromSeconds(1);
        _logger = logger ?? NullLogger.Instance;
    }

    public DirectorySnapshot Current => _current;

    /// <summary>The change counter the current snapshot was loaded at (-1 before the first load).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Loads the snapshot if the directory changed since the last load. Returns true when it loaded.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        // Read the counter before the data: the snapshot is then at least as new as the counter we
        // record, so a change committed in between is picked up by the next poll, never missed.
        var version = await _store.GetVersionAsync(cancellationToken).ConfigureAwait(false);
        if (version == Interlocked.Read(ref _version))
        {
            return false;
        }
        var snapshot = await _store.LoadSnapshotAsync(cancellationToken).ConfigureAwait(false);
        _current = snapshot;
        Interlocked.Exchange(ref _version, version);
        _logger.LogInformation("directory loaded (version {Version}): {Domains} domains, {Users} users, {Aliases} aliases",
            version, snapshot.Domains.Count, snapshot.Users.Count, snapshot.Aliases.Count);
        return true;
    }

    /// <summary>Polls until cancelled. A failed poll is logged and retried; the last good snapshot stays in use.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
            {
                _logger.LogWarning(e, "directory reload failed; keeping the previous snapshot");
            }
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
