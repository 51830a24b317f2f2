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
}
