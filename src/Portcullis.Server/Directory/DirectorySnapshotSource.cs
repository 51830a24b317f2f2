using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Portcullis.Server.Directory;

/// <summary>
/// Keeps the running server's <see cref="DirectorySnapshot"/> current: polls the store's change counter
/// (one tiny query) every <c>interval</c> and loads a new snapshot only when it moved, so a
/// `portcullis user add` in another process is seen within about one interval. Readers take
/// <see cref="Current"/> once per decision; swapping the reference is atomic. A decision that would refuse
/// because of what the directory lacks first calls <see cref="CatchUpAsync"/>, so a user or domain added a
/// moment ago is never refused with a 5xx from a snapshot that predates it.
/// </summary>
public sealed class DirectorySnapshotSource
{
    private readonly IDirectoryStore _store;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private volatile DirectorySnapshot _current = DirectorySnapshot.Empty;
    private long _version = -1;

    // One check of the change counter at a time (so snapshots are swapped in the order they were loaded), and the
    // number of checks started: a caller that finds a check started after its arrival (and so finished, since
    // the caller now holds the gate) needs no check of its own. Under a flood of refusals the checks coalesce.
    private readonly SemaphoreSlim _checking = new(1, 1);
    private long _checksStarted;

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
        await _checking.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _checksStarted);
            return await LoadIfChangedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _checking.Release();
        }
    }

    /// <summary>
    /// Returns once <see cref="Current"/> reflects every change committed to the store before this call: the change
    /// counter is read by a check that started after the call (this one, or another caller's). A failed check is
    /// logged and the current snapshot kept (the caller decides on it, as it would have without the check).
    /// </summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken = default)
    {
        var arrival = Interlocked.Read(ref _checksStarted);
        await _checking.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Interlocked.Read(ref _checksStarted) > arrival)
            {
                return; // a check began after this call and has finished: it saw every change committed before it
            }
            Interlocked.Increment(ref _checksStarted);
            await LoadIfChangedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException)
        {
            _logger.LogWarning(e, "directory check before a refusal failed; deciding on the snapshot in use");
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task<bool> LoadIfChangedAsync(CancellationToken cancellationToken)
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
