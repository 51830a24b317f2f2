using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Portcullis.Server.Directory;

/// <summary>
/// The embedded directory: a SQLite file, <c>&lt;data_dir&gt;/directory.db</c>, kept apart from the queue's
/// database so the CLI's occasional writes never wait behind the queue's group commits (and vice versa).
/// WAL lets the running server read while the CLI writes; synchronous=FULL makes every committed change
/// durable; a busy timeout lets the two processes take turns instead of failing. The file is created
/// 0600 because it holds credentials.
/// </summary>
public sealed class SqliteDirectoryStore : IDirectoryStore
{
    public const string FileName = "directory.db";

    /// <summary>`portcullis check`: an existing directory database's integrity and its domains, users and aliases, changing nothing.</summary>
    public static Storage.DatabaseInspection Inspect(string path) => Storage.DatabaseInspection.Inspect(path, new Dictionary<string, string>
    {
        ["domains"] = "SELECT count(*) FROM domains",
        ["users"] = "SELECT count(*) FROM users",
        ["aliases"] = "SELECT count(*) FROM aliases",
    });

    /// <summary>The longest alias chain <see cref="DirectorySnapshot.ResolveMailbox"/> follows (8 lookups: 7 aliases, then the user).</summary>
    private const int MaxAliasHops = 7;

    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(10);

    private readonly string _connectionString;
    private readonly SemaphoreSlim _versionGate = new(1, 1);
    private SqliteCommand? _versionRead;

    private SqliteDirectoryStore(string path)
    {
        DatabasePath = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();
    }

    public string DatabasePath { get; }

    /// <summary>Opens (creating and migrating when needed) <c>&lt;dataDir&gt;/directory.db</c>.</summary>
    public static Task<SqliteDirectoryStore> OpenInDataDirAsync(string dataDir, CancellationToken cancellationToken = default) =>
        OpenAsync(Path.Combine(dataDir, FileName), cancellationToken);

    /// <summary>Opens (creating and migrating when needed) the directory database at <paramref name="path"/>.</summary>
    public static async Task<SqliteDirectoryStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        path = Path.GetFullPath(path);
        CreatePrivateFile(path);
        var store = new SqliteDirectoryStore(path);
        await using (var connection = await store.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            // WAL is a property of the file (it persists); set it before any transaction.
            using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode=WAL";
                var mode = wal.ExecuteScalar() as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"{path}: SQLite refused WAL mode (got {mode})");
                }
            }
            SqliteDirectorySchema.Migrate(connection);
        }
        return store;
    }

    public async Task<string> AddDomainAsync(string domain, CancellationToken cancellationToken = default)
    {
        var name = DirectoryNames.NormalizeDomain(domain);
        await WriteAsync(cancellationToken, (c, t) =>
        {
            if (Exists(c, t, "SELECT 1 FROM domains WHERE name = $p", name))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"domain {name} already exists");
            }
            Execute(c, t, "INSERT INTO domains (name, created) VALUES ($p, $created)", name);
            return 0;
        }).ConfigureAwait(false);
        return name;
    }

    public async Task<IReadOnlyList<DomainEntry>> ListDomainsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, created FROM domains ORDER BY name";
        using var r = cmd.ExecuteReader();
        var list = new List<DomainEntry>();
        while (r.Read())
        {
            list.Add(new DomainEntry(r.GetString(0), ParseTime(r.GetString(1))));
        }
        return list;
    }

    public Task<DirectoryRemoval> RemoveDomainAsync(string domain, bool force, CancellationToken cancellationToken = default)
    {
        var name = DirectoryNames.NormalizeDomain(domain);
        return WriteAsync(cancellationToken, (c, t) =>
        {
            if (!Exists(c, t, "SELECT 1 FROM domains WHERE name = $p", name))
            {
                throw new DirectoryException(DirectoryErrorKind.NotFound, $"domain {name} does not exist");
            }
            var users = Strings(c, t, "SELECT address FROM users WHERE domain = $p ORDER BY address", name);
            var aliases = Strings(c, t, "SELECT address FROM aliases WHERE domain = $p ORDER BY address", name);
            if (!force && (users.Count > 0 || aliases.Count > 0))
            {
                throw new DirectoryException(DirectoryErrorKind.InUse,
                    $"domain {name} still has {Count(users.Count, "user")} and {Count(aliases.Count, "alias")}; remove them first, or use --force to remove them with the domain");
            }
            Execute(c, t, "DELETE FROM aliases WHERE domain = $p", name);
            Execute(c, t, "DELETE FROM users WHERE domain = $p", name);
            // Aliases in other domains that pointed at this domain's users no longer lead anywhere.
            var dangling = RemoveDanglingAliases(c, t);
            if (!force && dangling.Count > 0)
            {
                throw new DirectoryException(DirectoryErrorKind.InUse, $"domain {name}: aliases elsewhere point into it ({string.Join(", ", dangling)}); use --force");
            }
            Execute(c, t, "DELETE FROM domains WHERE name = $p", name);
            return new DirectoryRemoval(name, users, [.. aliases, .. dangling]);
        });
    }

    public async Task<string> AddUserAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var user = DirectoryNames.NormalizeAddress(address);
        var domain = DirectoryNames.DomainOf(user);
        await WriteAsync(cancellationToken, (c, t) =>
        {
            RequireLocalDomain(c, t, domain, "user " + user);
            if (Exists(c, t, "SELECT 1 FROM users WHERE address = $p", user))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"user {user} already exists");
            }
            if (Exists(c, t, "SELECT 1 FROM aliases WHERE address = $p", user))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"{user} is already an alias; remove the alias first");
            }
            Execute(c, t, "INSERT INTO users (address, domain, credential, created) VALUES ($p, $q, $r, $created)", user, domain, credential.ToString());
            return 0;
        }).ConfigureAwait(false);
        return user;
    }

    public async Task SetCredentialAsync(string address, ScramCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var user = DirectoryNames.NormalizeAddress(address);
        await WriteAsync(cancellationToken, (c, t) =>
        {
            if (Execute(c, t, "UPDATE users SET credential = $q WHERE address = $p", user, credential.ToString()) == 0)
            {
                throw new DirectoryException(DirectoryErrorKind.NotFound, $"user {user} does not exist");
            }
            return 0;
        }).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UserEntry>> ListUsersAsync(string? domain = null, CancellationToken cancellationToken = default)
    {
        var d = domain is null ? null : DirectoryNames.NormalizeDomain(domain);
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var cmd = c.CreateCommand();
        cmd.CommandText = d is null
            ? "SELECT address, created FROM users ORDER BY address"
            : "SELECT address, created FROM users WHERE domain = $p ORDER BY address";
        cmd.Parameters.AddWithValue("$p", (object?)d ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        var list = new List<UserEntry>();
        while (r.Read())
        {
            list.Add(new UserEntry(r.GetString(0), ParseTime(r.GetString(1))));
        }
        return list;
    }

    public Task<DirectoryRemoval> RemoveUserAsync(string address, bool force, CancellationToken cancellationToken = default)
    {
        var user = DirectoryNames.NormalizeAddress(address);
        return WriteAsync(cancellationToken, (c, t) =>
        {
            if (Execute(c, t, "DELETE FROM users WHERE address = $p", user) == 0)
            {
                throw new DirectoryException(DirectoryErrorKind.NotFound, $"user {user} does not exist");
            }
            var dangling = RemoveDanglingAliases(c, t);
            if (!force && dangling.Count > 0)
            {
                throw new DirectoryException(DirectoryErrorKind.InUse,
                    $"user {user} is the target of {Count(dangling.Count, "alias")} ({string.Join(", ", dangling)}); remove them first, or use --force to remove them with the user");
            }
            return new DirectoryRemoval(user, [user], dangling);
        });
    }

    public Task<AliasEntry> AddAliasAsync(string alias, string target, CancellationToken cancellationToken = default)
    {
        var a = DirectoryNames.NormalizeAddress(alias);
        var to = DirectoryNames.NormalizeAddress(target);
        return WriteAsync(cancellationToken, (c, t) =>
        {
            RequireLocalDomain(c, t, DirectoryNames.DomainOf(a), "alias " + a);
            if (Exists(c, t, "SELECT 1 FROM aliases WHERE address = $p", a))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"alias {a} already exists");
            }
            if (Exists(c, t, "SELECT 1 FROM users WHERE address = $p", a))
            {
                throw new DirectoryException(DirectoryErrorKind.AlreadyExists, $"{a} is already a user; an alias cannot shadow a mailbox");
            }
            // The target must lead to a mailbox now, within the hop limit the snapshot follows. The new
            // alias is not yet in the table, so the walk cannot pass through it: no loop can form.
            var current = to;
            for (var hop = 0; ; hop++)
            {
                if (Exists(c, t, "SELECT 1 FROM users WHERE address = $p", current))
                {
                    break;
                }
                var next = Strings(c, t, "SELECT target FROM aliases WHERE address = $p", current);
                if (next.Count == 0)
                {
                    throw new DirectoryException(DirectoryErrorKind.Invalid, $"alias {a}: target {to} is not a local user (add the user first)");
                }
                if (hop + 1 >= MaxAliasHops)
                {
                    throw new DirectoryException(DirectoryErrorKind.Invalid, $"alias {a}: target {to} is more than {MaxAliasHops - 1} aliases away from a mailbox");
                }
                current = next[0];
            }
            Execute(c, t, "INSERT INTO aliases (address, domain, target, created) VALUES ($p, $q, $r, $created)", a, DirectoryNames.DomainOf(a), to);
            return new AliasEntry(a, to, DateTimeOffset.UtcNow);
        });
    }

    public async Task<IReadOnlyList<AliasEntry>> ListAliasesAsync(string? domain = null, CancellationToken cancellationToken = default)
    {
        var d = domain is null ? null : DirectoryNames.NormalizeDomain(domain);
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var cmd = c.CreateCommand();
        cmd.CommandText = d is null
            ? "SELECT address, target, created FROM aliases ORDER BY address"
            : "SELECT address, target, created FROM aliases WHERE domain = $p ORDER BY address";
        cmd.Parameters.AddWithValue("$p", (object?)d ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        var list = new List<AliasEntry>();
        while (r.Read())
        {
            list.Add(new AliasEntry(r.GetString(0), r.GetString(1), ParseTime(r.GetString(2))));
        }
        return list;
    }

    public Task<DirectoryRemoval> RemoveAliasAsync(string alias, bool force, CancellationToken cancellationToken = default)
    {
        var a = DirectoryNames.NormalizeAddress(alias);
        return WriteAsync(cancellationToken, (c, t) =>
        {
            if (Execute(c, t, "DELETE FROM aliases WHERE address = $p", a) == 0)
            {
                throw new DirectoryException(DirectoryErrorKind.NotFound, $"alias {a} does not exist");
            }
            var dangling = RemoveDanglingAliases(c, t);
            if (!force && dangling.Count > 0)
            {
                throw new DirectoryException(DirectoryErrorKind.InUse,
                    $"alias {a} is the target of {Count(dangling.Count, "alias")} ({string.Join(", ", dangling)}); remove them first, or use --force");
            }
            return new DirectoryRemoval(a, [], [a, .. dangling]);
        });
    }

    public async Task<ScramCredential?> GetCredentialAsync(string address, CancellationToken cancellationToken = default)
    {
        string user;
        try
        {
            user = DirectoryNames.NormalizeAddress(address);
        }
        catch (DirectoryException)
        {
            return null; // an AUTH user name that cannot be a user is simply not one
        }
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT credential FROM users WHERE address = $p";
        cmd.Parameters.AddWithValue("$p", user);
        return cmd.ExecuteScalar() is string text ? ScramCredential.Parse(text) : null;
    }

    public async Task<DirectorySnapshot> LoadSnapshotAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One read transaction: the three tables are seen at the same commit.
        using var t = c.BeginTransaction(deferred: true);
        var domains = Strings(c, t, "SELECT name FROM domains");
        var users = Strings(c, t, "SELECT address FROM users");
        var aliases = new List<KeyValuePair<string, string>>();
        using (var cmd = c.CreateCommand())
        {
            cmd.Transaction = t;
            cmd.CommandText = "SELECT address, target FROM aliases";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                aliases.Add(new(r.GetString(0), r.GetString(1)));
            }
        }
        t.Commit();
        return new DirectorySnapshot(domains, users, aliases);
    }

    public async Task<long> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        // On one connection kept open with its statement prepared: the server reads the counter every second and
        // before each refusal that depends on the directory (a flood of relay attempts makes many), and opening a
        // pooled connection with its pragmas for each read cost about 40 µs of the server's CPU per refused RCPT.
        // Each read is its own autocommit transaction, so it sees every change committed before it.
        await _versionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_versionRead is null)
            {
                var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT version FROM directory_version WHERE id = 1";
                cmd.Prepare();
                _versionRead = cmd;
            }
            return (long)_versionRead.ExecuteScalar()!;
        }
        catch
        {
            DropVersionRead(); // a broken connection is opened afresh at the next read
            throw;
        }
        finally
        {
            _versionGate.Release();
        }
    }

    private void DropVersionRead()
    {
        var connection = _versionRead?.Connection;
        _versionRead?.Dispose();
        connection?.Dispose();
        _versionRead = null;
    }

    public async ValueTask DisposeAsync()
    {
        await _versionGate.WaitAsync().ConfigureAwait(false);
        try
        {
            DropVersionRead();
        }
        finally
        {
            _versionGate.Release();
        }
        // Pooled connections keep the file open; release them so the data directory can be removed.
        using var c = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(c);
    }

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var c = new SqliteConnection(_connectionString);
        try
        {
            await c.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var pragmas = c.CreateCommand();
            // busy_timeout: the CLI and a running server share the file and wait for each other's locks.
            // synchronous=FULL: a committed change survives power loss (WAL's default NORMAL may lose it).
            pragmas.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout={(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
            pragmas.ExecuteNonQuery();
            return c;
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>One write: an immediate transaction (takes the write lock up front, so no deadlock on upgrade), the change, the version bump, the commit.</summary>
    private async Task<T> WriteAsync<T>(CancellationToken cancellationToken, Func<SqliteConnection, SqliteTransaction, T> change)
    {
        await using var c = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var t = c.BeginTransaction(deferred: false);
        var result = change(c, t);
        Execute(c, t, "UPDATE directory_version SET version = version + 1 WHERE id = 1");
        t.Commit();
        return result;
    }

    /// <summary>
    /// Deletes, repeatedly, every alias whose target is neither a user nor an alias, so chains through a
    /// removed entry go too. Returns what it deleted (the caller rolls back when it must not).
    /// </summary>
    private static List<string> RemoveDanglingAliases(SqliteConnection c, SqliteTransaction t)
    {
        var removed = new List<string>();
        while (true)
        {
            var round = Strings(c, t,
                "DELETE FROM aliases WHERE target NOT IN (SELECT address FROM users) AND target NOT IN (SELECT address FROM aliases) RETURNING address");
            if (round.Count == 0)
            {
                removed.Sort(StringComparer.Ordinal);
                return removed;
            }
            removed.AddRange(round);
        }
    }

    private static void RequireLocalDomain(SqliteConnection c, SqliteTransaction t, string domain, string what)
    {
        if (!Exists(c, t, "SELECT 1 FROM domains WHERE name = $p", domain))
        {
            throw new DirectoryException(DirectoryErrorKind.Invalid, $"{what}: {domain} is not a local domain (add the domain first)");
        }
    }

    private static string Count(int n, string noun) =>
        n == 1 ? $"1 {noun}" : string.Create(CultureInfo.InvariantCulture, $"{n} {(noun == "alias" ? "aliases" : noun + "s")}");

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction t, string sql, string?[] args)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = t;
        cmd.CommandText = sql;
        string[] names = ["$p", "$q", "$r"];
        for (var i = 0; i < args.Length; i++)
        {
            cmd.Parameters.AddWithValue(names[i], args[i]);
        }
        if (sql.Contains("$created", StringComparison.Ordinal))
        {
            cmd.Parameters.AddWithValue("$created", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        }
        return cmd;
    }

    private static int Execute(SqliteConnection c, SqliteTransaction t, string sql, params string?[] args)
    {
        using var cmd = Command(c, t, sql, args);
        return cmd.ExecuteNonQuery();
    }

    private static bool Exists(SqliteConnection c, SqliteTransaction t, string sql, params string?[] args)
    {
        using var cmd = Command(c, t, sql, args);
        return cmd.ExecuteScalar() is not null;
    }

    private static List<string> Strings(SqliteConnection c, SqliteTransaction t, string sql, params string?[] args)
    {
        using var cmd = Command(c, t, sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    private static DateTimeOffset ParseTime(string s) =>
        DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static void CreatePrivateFile(string path)
    {
        var dir = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(dir);
            return;
        }
        System.IO.Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (File.Exists(path))
        {
            return;
        }
        try
        {
            // SQLite gives its -wal and -shm files the database file's mode, so 0600 here covers all three.
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: fine.
        }
    }
}
