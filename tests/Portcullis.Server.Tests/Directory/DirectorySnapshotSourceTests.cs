using Portcullis.Server.Directory;

namespace Portcullis.Server.Tests.Directory;

public class DirectorySnapshotSourceTests
{
    [Fact]
    public async Task Refresh_loads_only_when_the_directory_changed()
    {
        using var dir = new TempDataDir();
        await using var store = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path);
        var source = new DirectorySnapshotSource(store);
        Assert.Same(DirectorySnapshot.Empty, source.Current);

        Assert.True(await source.RefreshAsync());
        var first = source.Current;
        Assert.False(await source.RefreshAsync());
        Assert.Same(first, source.Current);

        await store.AddDomainAsync("example.test");
        Assert.True(await source.RefreshAsync());
        Assert.True(source.Current.IsLocalDomain("example.test"));
    }

    [Fact]
    public async Task Running_source_sees_a_change_from_another_store_at_its_next_poll()
    {
        using var dir = new TempDataDir();
        await using var server = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path);
        var source = new DirectorySnapshotSource(server, TimeSpan.FromMilliseconds(200));
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(cts.Token);

        await using (var cli = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path))
        {
            await cli.AddDomainAsync("example.test");
        }
        // It polls every 200 ms; the deadline leaves room for a machine busy with the rest of the suite (a run
        // under load once missed a one-second deadline) and still fails a source that never refreshes.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!source.Current.IsLocalDomain("example.test") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(source.Current.IsLocalDomain("example.test"));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task A_catch_up_sees_a_change_committed_before_it_without_waiting_for_the_next_poll()
    {
        using var dir = new TempDataDir();
        await using var server = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path);
        var source = new DirectorySnapshotSource(server, TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource();
        var run = source.RunAsync(cts.Token); // loads once at start, then not for an hour
        while (source.Version < 0)
        {
            await Task.Delay(10);
        }

        await using (var cli = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path))
        {
            await cli.AddDomainAsync("example.test");
        }
        Assert.False(source.Current.IsLocalDomain("example.test"));
        await source.CatchUpAsync();
        Assert.True(source.Current.IsLocalDomain("example.test"));
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Catch_ups_that_arrive_during_a_check_share_the_next_one()
    {
        using var dir = new TempDataDir();
        await using var real = await SqliteDirectoryStore.OpenInDataDirAsync(dir.Path);
        var store = new SlowVersionStore(real);
        var source = new DirectorySnapshotSource(store);
        await source.RefreshAsync();
        await real.AddDomainAsync("example.test");
        store.VersionReads = 0;

        // The first call's check is under way when the other 49 arrive; it may have read the counter before a
        // change they know of, so one more check runs after it, and that one serves all 49.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => source.CatchUpAsync()));

        Assert.Equal(2, store.VersionReads);
        Assert.True(source.Current.IsLocalDomain("example.test"));
    }

    /// <summary>The real store, with its change counter read as slowly as from a busy disk (50 ms).</summary>
    private sealed class SlowVersionStore(IDirectoryStore real) : IDirectoryStore
    {
        public int VersionReads;

        public async Task<long> GetVersionAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref VersionReads);
            await Task.Delay(50, cancellationToken);
            return await real.GetVersionAsync(cancellationToken);
        }

        public Task<DirectorySnapshot> LoadSnapshotAsync(CancellationToken cancellationToken = default) => real.LoadSnapshotAsync(cancellationToken);
        public Task<string> AddDomainAsync(string domain, CancellationToken cancellationToken = default) => real.AddDomainAsync(domain, cancellationToken);
        public Task<IReadOnlyList<DomainEntry>> ListDomainsAsync(CancellationToken cancellationToken = default) => real.ListDomainsAsync(cancellationToken);
        public Task<DirectoryRemoval> RemoveDomainAsync(string domain, bool force, CancellationToken cancellationToken = default) => real.RemoveDomainAsync(domain, force, cancellationToken);
        public Task<string> AddUserAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default) => real.AddUserAsync(address, credential, cancellationToken);
        public Task SetCredentialAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default) => real.SetCredentialAsync(address, credential, cancellationToken);
        public Task<IReadOnlyList<UserEntry>> ListUsersAsync(string? domain = null, CancellationToken cancellationToken = default) => real.ListUsersAsync(domain, cancellationToken);
        public Task<DirectoryRemoval> RemoveUserAsync(string address, bool force, CancellationToken cancellationToken = default) => real.RemoveUserAsync(address, force, cancellationToken);
        public Task<AliasEntry> AddAliasAsync(string alias, string target, CancellationToken cancellationToken = default) => real.AddAliasAsync(alias, target, cancellationToken);
        public Task<IReadOnlyList<AliasEntry>> ListAliasesAsync(string? domain = null, CancellationToken cancellationToken = default) => real.ListAliasesAsync(domain, cancellationToken);
        public Task<DirectoryRemoval> RemoveAliasAsync(string alias, bool force, CancellationToken cancellationToken = default) => real.RemoveAliasAsync(alias, force, cancellationToken);
        public Task<ScramCredential?> GetCredentialAsync(string address, CancellationToken cancellationToken = default) => real.GetCredentialAsync(address, cancellationToken);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
