using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Directory;

namespace Portcullis.Server.Tests.Directory;

public sealed class SqliteDirectoryStoreTests : IAsyncLifetime
{
    // Cheap credentials keep the tests fast; the iteration floor is tested in ScramCredentialTests.
    private static readonly ScramCredential AliceCredential = ScramCredential.Derive("alice-secret", "0123456789abcdef"u8, 4096);
    private static readonly ScramCredential BobCredential = ScramCredential.Derive("bob-secret", "fedcba9876543210"u8, 4096);

    private readonly TempDataDir _dir = new();
    private SqliteDirectoryStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteDirectoryStore.OpenInDataDirAsync(_dir.Path);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<SqliteDirectoryStore> ReopenAsync()
    {
        await _store.DisposeAsync();
        return _store = await SqliteDirectoryStore.OpenInDataDirAsync(_dir.Path);
    }

    [Fact]
    public async Task Open_creates_directory_db_in_wal_mode_readable_only_by_owner()
    {
        var path = Path.Combine(_dir.Path, "directory.db");
        Assert.Equal(path, _store.DatabasePath);
        Assert.True(File.Exists(path));
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(path) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        await using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        await c.OpenAsync();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", cmd.ExecuteScalar());
        cmd.CommandText = "SELECT version FROM schema_version";
        Assert.Equal(1L, cmd.ExecuteScalar());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Wal_and_shm_files_are_as_private_as_the_database()
    {
        await _store.AddDomainAsync("example.test");
        // The pooled connection keeps the database open, so SQLite's -wal and -shm files exist now.
        await using var reader = new SqliteConnection($"Data Source={_store.DatabasePath};Pooling=False");
        await reader.OpenAsync();
        using (var cmd = reader.CreateCommand())
        {
            cmd.CommandText = "SELECT count(*) FROM domains";
            Assert.Equal(1L, cmd.ExecuteScalar());
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            var file = _store.DatabasePath + suffix;
            Assert.True(File.Exists(file), file);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task Domains_users_and_aliases_survive_reopening()
    {
        await _store.AddDomainAsync("Example.Test");
        await _store.AddUserAsync("Alice@Example.Test", AliceCredential);
        await _store.AddAliasAsync("Sales@example.test", "alice@example.test");

        var store = await ReopenAsync();
        Assert.Equal(["example.test"], (await store.ListDomainsAsync()).Select(d => d.Name));
        Assert.Equal(["alice@example.test"], (await store.ListUsersAsync()).Select(u => u.Address));
        var alias = Assert.Single(await store.ListAliasesAsync());
        Assert.Equal(("sales@example.test", "alice@example.test"), (alias.Address, alias.Target));
        Assert.InRange(alias.Created, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Stored_credential_verifies_the_password_and_no_password_text_is_in_the_file()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("alice@example.test", ScramCredential.Create("Tr0ub4dor&3-unique-pw"));

        var credential = await _store.GetCredentialAsync("ALICE@example.test");
        Assert.NotNull(credential);
        Assert.True(credential.VerifyPassword("Tr0ub4dor&3-unique-pw"));
        Assert.False(credential.VerifyPassword("Tr0ub4dor&3-unique-pX"));
        Assert.Equal(100_000, credential.Iterations);
        Assert.Null(await _store.GetCredentialAsync("bob@example.test"));
        Assert.Null(await _store.GetCredentialAsync("not an address"));

        await _store.DisposeAsync(); // flush nothing pending; release the file
        foreach (var file in System.IO.Directory.GetFiles(_dir.Path, "directory.db*"))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain("Tr0ub4dor", Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Adding_twice_is_an_already_exists_error()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        await _store.AddAliasAsync("sales@example.test", "alice@example.test");

        var d = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddDomainAsync("EXAMPLE.test"));
        Assert.Equal((DirectoryErrorKind.AlreadyExists, "domain example.test already exists"), (d.Kind, d.Message));
        var u = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddUserAsync("alice@example.test", BobCredential));
        Assert.Equal((DirectoryErrorKind.AlreadyExists, "user alice@example.test already exists"), (u.Kind, u.Message));
        var a = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("sales@example.test", "alice@example.test"));
        Assert.Equal((DirectoryErrorKind.AlreadyExists, "alias sales@example.test already exists"), (a.Kind, a.Message));
        // A name is either a mailbox or an alias, never both.
        Assert.Equal(DirectoryErrorKind.AlreadyExists, (await Assert.ThrowsAsync<DirectoryException>(() => _store.AddUserAsync("sales@example.test", BobCredential))).Kind);
        Assert.Equal(DirectoryErrorKind.AlreadyExists, (await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("alice@example.test", "alice@example.test"))).Kind);
        // The original credential was not replaced by the refused second add.
        Assert.True((await _store.GetCredentialAsync("alice@example.test"))!.VerifyPassword("alice-secret"));
    }

    [Fact]
    public async Task User_or_alias_outside_a_local_domain_is_refused()
    {
        await _store.AddDomainAsync("example.test");
        var u = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddUserAsync("bob@other.test", BobCredential));
        Assert.Equal(DirectoryErrorKind.Invalid, u.Kind);
        Assert.Equal("user bob@other.test: other.test is not a local domain (add the domain first)", u.Message);
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        var a = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("sales@other.test", "alice@example.test"));
        Assert.Contains("other.test is not a local domain", a.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAliasesAsync());
    }

    [Fact]
    public async Task Alias_target_must_resolve_to_a_local_user()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddDomainAsync("example.org");
        await _store.AddUserAsync("alice@example.test", AliceCredential);

        var e = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("sales@example.test", "nobody@example.test"));
        Assert.Equal((DirectoryErrorKind.Invalid, "alias sales@example.test: target nobody@example.test is not a local user (add the user first)"), (e.Kind, e.Message));
        Assert.Equal(DirectoryErrorKind.Invalid, (await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("fwd@example.test", "someone@remote.example"))).Kind);
        Assert.Equal(DirectoryErrorKind.Invalid, (await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("self@example.test", "self@example.test"))).Kind);

        // Another local domain, and a chain through another alias, are fine.
        await _store.AddAliasAsync("info@example.org", "alice@example.test");
        await _store.AddAliasAsync("contact@example.org", "info@example.org");
        var snapshot = await _store.LoadSnapshotAsync();
        Assert.Equal("alice@example.test", snapshot.ResolveMailbox("contact@example.org"));
    }

    [Fact]
    public async Task Alias_chain_longer_than_the_snapshot_follows_is_refused()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("u@example.test", AliceCredential);
        var target = "u@example.test";
        for (var i = 1; i <= 7; i++)
        {
            await _store.AddAliasAsync($"a{i}@example.test", target);
            target = $"a{i}@example.test";
        }
        // a7 -> a6 -> ... -> a1 -> u: seven aliases, the most ResolveMailbox follows.
        Assert.Equal("u@example.test", (await _store.LoadSnapshotAsync()).ResolveMailbox("a7@example.test"));
        var e = await Assert.ThrowsAsync<DirectoryException>(() => _store.AddAliasAsync("a8@example.test", "a7@example.test"));
        Assert.Contains("aliases away from a mailbox", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_a_domain_with_users_is_refused_unless_forced()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddDomainAsync("example.org");
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        await _store.AddAliasAsync("sales@example.test", "alice@example.test");
        await _store.AddAliasAsync("info@example.org", "alice@example.test");

        var e = await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveDomainAsync("example.test", force: false));
        Assert.Equal(DirectoryErrorKind.InUse, e.Kind);
        Assert.Equal("domain example.test still has 1 user and 1 alias; remove them first, or use --force to remove them with the domain", e.Message);
        Assert.Equal(2, (await _store.ListDomainsAsync()).Count);
        Assert.Equal(2, (await _store.ListAliasesAsync()).Count);

        var removal = await _store.RemoveDomainAsync("example.test", force: true);
        Assert.Equal("example.test", removal.Removed);
        Assert.Equal(["alice@example.test"], removal.RemovedUsers);
        Assert.Equal(["sales@example.test", "info@example.org"], removal.RemovedAliases);
        Assert.Equal(["example.org"], (await _store.ListDomainsAsync()).Select(d => d.Name));
        Assert.Empty(await _store.ListUsersAsync());
        Assert.Empty(await _store.ListAliasesAsync());
    }

    [Fact]
    public async Task Removing_an_empty_domain_needs_no_force_and_a_missing_one_is_not_found()
    {
        await _store.AddDomainAsync("example.test");
        var removal = await _store.RemoveDomainAsync("example.test", force: false);
        Assert.Equal("example.test", removal.Removed);
        Assert.Empty(await _store.ListDomainsAsync());
        var e = await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveDomainAsync("example.test", force: false));
        Assert.Equal((DirectoryErrorKind.NotFound, "domain example.test does not exist"), (e.Kind, e.Message));
    }

    [Fact]
    public async Task Removing_a_user_that_aliases_point_to_is_refused_unless_forced()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        await _store.AddUserAsync("bob@example.test", BobCredential);
        await _store.AddAliasAsync("sales@example.test", "alice@example.test");
        await _store.AddAliasAsync("team@example.test", "sales@example.test");
        await _store.AddAliasAsync("builds@example.test", "bob@example.test");

        var e = await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveUserAsync("alice@example.test", force: false));
        Assert.Equal(DirectoryErrorKind.InUse, e.Kind);
        Assert.Contains("sales@example.test, team@example.test", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await _store.ListUsersAsync()).Count);

        var removal = await _store.RemoveUserAsync("alice@example.test", force: true);
        Assert.Equal(["sales@example.test", "team@example.test"], removal.RemovedAliases);
        Assert.Equal(["bob@example.test"], (await _store.ListUsersAsync()).Select(u => u.Address));
        Assert.Equal(["builds@example.test"], (await _store.ListAliasesAsync()).Select(a => a.Address));
        Assert.Null(await _store.GetCredentialAsync("alice@example.test"));

        await _store.RemoveUserAsync("bob@example.test", force: true);
        Assert.Equal(DirectoryErrorKind.NotFound, (await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveUserAsync("bob@example.test", force: false))).Kind);
    }

    [Fact]
    public async Task Removing_an_alias_others_point_through_is_refused_unless_forced()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        await _store.AddAliasAsync("sales@example.test", "alice@example.test");
        await _store.AddAliasAsync("team@example.test", "sales@example.test");

        Assert.Equal(DirectoryErrorKind.InUse, (await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveAliasAsync("sales@example.test", force: false))).Kind);
        await _store.RemoveAliasAsync("team@example.test", force: false);
        await _store.RemoveAliasAsync("sales@example.test", force: false);
        Assert.Empty(await _store.ListAliasesAsync());
        Assert.Equal(DirectoryErrorKind.NotFound, (await Assert.ThrowsAsync<DirectoryException>(() => _store.RemoveAliasAsync("sales@example.test", force: false))).Kind);
    }

    [Fact]
    public async Task Lists_are_sorted_and_filter_by_domain()
    {
        await _store.AddDomainAsync("zeta.test");
        await _store.AddDomainAsync("alpha.test");
        await _store.AddUserAsync("zed@zeta.test", AliceCredential);
        await _store.AddUserAsync("bob@alpha.test", BobCredential);
        await _store.AddUserAsync("amy@alpha.test", BobCredential);
        Assert.Equal(["alpha.test", "zeta.test"], (await _store.ListDomainsAsync()).Select(d => d.Name));
        Assert.Equal(["amy@alpha.test", "bob@alpha.test", "zed@zeta.test"], (await _store.ListUsersAsync()).Select(u => u.Address));
        Assert.Equal(["zed@zeta.test"], (await _store.ListUsersAsync("Zeta.Test")).Select(u => u.Address));
    }

    [Fact]
    public async Task Snapshot_reflects_the_directory_and_resolves_aliases()
    {
        await _store.AddDomainAsync("example.test");
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        await _store.AddAliasAsync("sales@example.test", "alice@example.test");
        var s = await _store.LoadSnapshotAsync();
        Assert.True(s.IsLocalDomain("EXAMPLE.TEST"));
        Assert.False(s.IsLocalDomain("example.org"));
        Assert.True(s.IsUser("alice@example.test"));
        Assert.Equal("alice@example.test", s.ResolveMailbox("Sales@Example.Test"));
        Assert.Null(s.ResolveMailbox("nobody@example.test"));
        Assert.Equal(["alice@example.test", "sales@example.test"], s.AddressesOwnedBy("alice@example.test").Order());
    }

    [Fact]
    public async Task Every_write_moves_the_version_and_a_refused_write_does_not()
    {
        var v0 = await _store.GetVersionAsync();
        await _store.AddDomainAsync("example.test");
        var v1 = await _store.GetVersionAsync();
        Assert.True(v1 > v0);
        await Assert.ThrowsAsync<DirectoryException>(() => _store.AddDomainAsync("example.test"));
        await Assert.ThrowsAsync<DirectoryException>(() => _store.AddUserAsync("x@other.test", AliceCredential));
        Assert.Equal(v1, await _store.GetVersionAsync());
        await _store.AddUserAsync("alice@example.test", AliceCredential);
        var v2 = await _store.GetVersionAsync();
        Assert.True(v2 > v1);
        await _store.SetCredentialAsync("alice@example.test", BobCredential);
        Assert.True(await _store.GetVersionAsync() > v2);
        Assert.True((await _store.GetCredentialAsync("alice@example.test"))!.VerifyPassword("bob-secret"));
    }

    [Fact]
    public async Task A_second_store_on_the_same_file_sees_changes_and_can_write_concurrently()
    {
        // The CLI and the running server are two processes on one file; two stores with separate
        // connection pools are the closest in-process equivalent.
        await using var other = await SqliteDirectoryStore.OpenAsync(Path.Combine(_dir.Path, "directory.db"));
        var before = await other.GetVersionAsync();
        await _store.AddDomainAsync("example.test");
        Assert.True(await other.GetVersionAsync() > before);
        Assert.True((await other.LoadSnapshotAsync()).IsLocalDomain("example.test"));

        var writes = Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? _store : other).AddUserAsync($"u{i}@example.test", AliceCredential));
        await Task.WhenAll(writes);
        Assert.Equal(20, (await _store.ListUsersAsync()).Count);
    }

    [Fact]
    public async Task A_database_from_a_newer_schema_is_refused_on_open()
    {
        await _store.DisposeAsync();
        var path = Path.Combine(_dir.Path, "directory.db");
        await using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await c.OpenAsync();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE schema_version SET version = 99";
            cmd.ExecuteNonQuery();
        }
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteDirectoryStore.OpenAsync(path));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        _store = await SqliteDirectoryStore.OpenInDataDirAsync(Path.Combine(_dir.Path, "fresh"));
    }
}
