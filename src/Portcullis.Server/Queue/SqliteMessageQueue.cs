using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Policy;

namespace Portcullis.Server.Queue;

/// <summary>
/// The embedded queue: one SQLite file in WAL mode with synchronous=FULL, so a COMMIT returns only after
/// the WAL is fsynced. All writes go through one writer task that drains every pending request into one
/// transaction: concurrent sessions share a commit and its fsync (group commit, DESIGN principle 4), so
/// throughput grows with concurrency instead of paying one fsync per message.
/// </summary>
public sealed class SqliteMessageQueue : IMessageQueue
{
    private const int MaxBatch = 1024;

    private readonly string _connectionString;
    private readonly string _walPath;
    private readonly Channel<WriteOp> _writes = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly SqliteConnection _readConnection;
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly SemaphoreSlim _workSignal = new(0, int.MaxValue);
    private readonly HashSet<(long, int)> _inFlight = [];
    private readonly QueueIdGenerator _ids = new();
    private readonly ILogger _log;

    private SqliteMessageQueue(string path, ILogger log)
    {
        _log = log;
        _walPath = path + "-wal";
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 }.ToString();
        using (var setup = Open(_connectionString))
        {
            Exec(setup, Schema);
        }
        _readConnection = Open(_connectionString);
        _writer = Task.Factory.StartNew(WriterLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public static SqliteMessageQueue Open(string dataDir, ILogger log)
    {
        System.IO.Directory.CreateDirectory(dataDir);
        return new SqliteMessageQueue(Path.Combine(dataDir, "queue.db"), log);
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS messages(
            id INTEGER PRIMARY KEY,
            sender TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            envid TEXT,
            ret TEXT,
            is_bounce INTEGER NOT NULL DEFAULT 0,
            content BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS recipients(
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            address TEXT NOT NULL,
            route INTEGER NOT NULL,
            notify TEXT,
            orcpt TEXT,
            status INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER NOT NULL,
            last_error TEXT,
            PRIMARY KEY(message_id, idx)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS recipients_due ON recipients(status, next_attempt);
        """;

    private static SqliteConnection Open(string cs)
    {
        var c = new SqliteConnection(cs);
        c.Open();
        // WAL + FULL: a commit is durable when it returns (the WAL is fsynced on every commit).
        Exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return c;
    }

    /// <summary>
    /// Makes commits overwrite WAL blocks that already exist instead of growing the file: on ext4 an fsync
    /// that must also record a new file size costs about twice as much (measured: 3.9 ms against 1.9 ms
    /// per commit on the benchmark machine). The WAL is grown once to its working size and then kept
    /// (journal_size_limit), and checkpoints restart it from the beginning.
    /// </summary>
    private static void PreallocateWal(SqliteConnection c, string walPath)
    {
        const long WalBytes = 16L * 1024 * 1024;
        Exec(c, $"PRAGMA journal_size_limit={WalBytes * 2}; PRAGMA wal_autocheckpoint=3000;");
        if (File.Exists(walPath) && new FileInfo(walPath).Length >= WalBytes)
        {
            return;
        }
        Exec(c, "CREATE TABLE IF NOT EXISTS wal_preallocation(b BLOB)");
        Exec(c, $"BEGIN; INSERT INTO wal_preallocation VALUES(zeroblob({WalBytes - 1024 * 1024})); DELETE FROM wal_preallocation; COMMIT;");
        Exec(c, "PRAGMA wal_checkpoint(RESTART)");
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public long NewId() => _ids.Next();

    public Task EnqueueAsync(QueuedMessage message, CancellationToken ct)
    {
        var op = new WriteOp(message, null);
        if (!_writes.Writer.TryWrite(op))
        {
            throw new InvalidOperationException("queue is closed");
        }
        return op.Done.Task.WaitAsync(ct);
    }

    public Task CompleteAsync(IReadOnlyList<AttemptResult> results, CancellationToken ct)
    {
        var op = new WriteOp(null, results);
        if (!_writes.Writer.TryWrite(op))
        {
            throw new InvalidOperationException("queue is closed");
        }
        return op.Done.Task.WaitAsync(ct);
    }

    public async Task<IReadOnlyList<DeliveryWork>> ClaimDueAsync(int max, DateTimeOffset now, RecipientRoute route, CancellationToken ct)
    {
        await _readLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var list = new List<DeliveryWork>();
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText = """
                SELECT r.message_id, r.idx, m.sender, r.address, r.route, r.attempts, m.received_at, m.content
                FROM recipients r JOIN messages m ON m.id = r.message_id
                WHERE r.status = 0 AND r.route = $route AND r.next_attempt <= $now
                ORDER BY r.next_attempt, r.message_id LIMIT $limit
                """;
            cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$route", (int)route);
            lock (_inFlight)
            {
                cmd.Parameters.AddWithValue("$limit", max + _inFlight.Count);
            }
            using var reader = cmd.ExecuteReader();
            while (reader.Read() && list.Count < max)
            {
                var key = (reader.GetInt64(0), reader.GetInt32(1));
                lock (_inFlight)
                {
                    if (!_inFlight.Add(key))
                    {
                        continue;
                    }
                }
                list.Add(new DeliveryWork(key.Item1, key.Item2, reader.GetString(2), reader.GetString(3), (RecipientRoute)reader.GetInt32(4),
                    reader.GetInt32(5), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)), (byte[])reader.GetValue(7)));
            }
            return list;
        }
        finally
        {
            _readLock.Release();
        }
    }

    public async Task WaitForWorkAsync(TimeSpan max, CancellationToken ct)
    {
        await _workSignal.WaitAsync(max, ct).ConfigureAwait(false);
        // Collapse a burst of signals into one wake-up.
        while (_workSignal.CurrentCount > 0 && _workSignal.Wait(0))
        {
        }
    }

    public async Task<(int Messages, int PendingRecipients)> CountAsync(CancellationToken ct)
    {
        await _readLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var cmd = _readConnection.CreateCommand();
            cmd.CommandText = "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM recipients WHERE status = 0)";
            using var r = cmd.ExecuteReader();
            r.Read();
            return (r.GetInt32(0), r.GetInt32(1));
        }
        finally
        {
            _readLock.Release();
        }
    }

    private void WriterLoop()
    {
        using var conn = Open(_connectionString);
        // On the writer's own connection, which stays open: the last connection to close would truncate the WAL.
        PreallocateWal(conn, _walPath);
        using var insertMessage = conn.CreateCommand();
        insertMessage.CommandText = "INSERT INTO messages(id, sender, received_at, envid, ret, is_bounce, content) VALUES($id, $sender, $at, $envid, $ret, $bounce, $content)";
        var pId = insertMessage.Parameters.Add("$id", SqliteType.Integer);
        var pSender = insertMessage.Parameters.Add("$sender", SqliteType.Text);
        var pAt = insertMessage.Parameters.Add("$at", SqliteType.Integer);
        var pEnvid = insertMessage.Parameters.Add("$envid", SqliteType.Text);
        var pRet = insertMessage.Parameters.Add("$ret", SqliteType.Text);
        var pBounce = insertMessage.Parameters.Add("$bounce", SqliteType.Integer);
        var pContent = insertMessage.Parameters.Add("$content", SqliteType.Blob);

        using var insertRcpt = conn.CreateCommand();
        insertRcpt.CommandText = "INSERT INTO recipients(message_id, idx, address, route, notify, orcpt, next_attempt) VALUES($mid, $idx, $addr, $route, $notify, $orcpt, $next)";
        var rMid = insertRcpt.Parameters.Add("$mid", SqliteType.Integer);
        var rIdx = insertRcpt.Parameters.Add("$idx", SqliteType.Integer);
        var rAddr = insertRcpt.Parameters.Add("$addr", SqliteType.Text);
        var rRoute = insertRcpt.Parameters.Add("$route", SqliteType.Integer);
        var rNotify = insertRcpt.Parameters.Add("$notify", SqliteType.Text);
        var rOrcpt = insertRcpt.Parameters.Add("$orcpt", SqliteType.Text);
        var rNext = insertRcpt.Parameters.Add("$next", SqliteType.Integer);

        using var update = conn.CreateCommand();
        update.CommandText = "UPDATE recipients SET status = $status, attempts = attempts + 1, next_attempt = $next, last_error = $err WHERE message_id = $mid AND idx = $idx";
        var uStatus = update.Parameters.Add("$status", SqliteType.Integer);
        var uNext = update.Parameters.Add("$next", SqliteType.Integer);
        var uErr = update.Parameters.Add("$err", SqliteType.Text);
        var uMid = update.Parameters.Add("$mid", SqliteType.Integer);
        var uIdx = update.Parameters.Add("$idx", SqliteType.Integer);

        using var retire = conn.CreateCommand();
        retire.CommandText = "DELETE FROM messages WHERE id = $mid AND NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = $mid AND status = 0)";
        var dMid = retire.Parameters.Add("$mid", SqliteType.Integer);

        var batch = new List<WriteOp>(MaxBatch);
        var reader = _writes.Reader;
        var durable = true;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var op))
            {
                batch.Add(op);
            }
            var hasEnqueue = batch.Exists(b => b.Message is not null);
            try
            {
                // Completions alone need not wait for an fsync: if one is lost in a crash the recipient is
                // simply attempted again (and Maildir delivery is idempotent). New messages always do.
                if (hasEnqueue != durable)
                {
                    Exec(conn, hasEnqueue ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
                    durable = hasEnqueue;
                }
                using var tx = conn.BeginTransaction();
                insertMessage.Transaction = insertRcpt.Transaction = update.Transaction = retire.Transaction = tx;
                foreach (var op in batch)
                {
                    if (op.Message is { } m)
                    {
                        pId.Value = m.Id;
                        pSender.Value = m.Sender;
                        pAt.Value = m.ReceivedAt.ToUnixTimeMilliseconds();
                        pEnvid.Value = (object?)m.EnvelopeId ?? DBNull.Value;
                        pRet.Value = (object?)m.Ret ?? DBNull.Value;
                        pBounce.Value = m.IsBounce ? 1 : 0;
                        pContent.Value = m.Content.ToArray();
                        insertMessage.ExecuteNonQuery();
                        for (var i = 0; i < m.Recipients.Count; i++)
                        {
                            var r = m.Recipients[i];
                            rMid.Value = m.Id;
                            rIdx.Value = i;
                            rAddr.Value = r.Address;
                            rRoute.Value = (int)r.Route;
                            rNotify.Value = (object?)r.Notify ?? DBNull.Value;
                            rOrcpt.Value = (object?)r.OriginalRecipient ?? DBNull.Value;
                            rNext.Value = m.ReceivedAt.ToUnixTimeMilliseconds();
                            insertRcpt.ExecuteNonQuery();
                        }
                    }
                    if (op.Results is { } results)
                    {
                        foreach (var res in results)
                        {
                            uStatus.Value = res.Outcome switch { AttemptOutcome.Delivered => 1, AttemptOutcome.Failed => 2, _ => 0 };
                            uNext.Value = (res.RetryAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
                            uErr.Value = (object?)res.Detail ?? DBNull.Value;
                            uMid.Value = res.MessageId;
                            uIdx.Value = res.RecipientIndex;
                            update.ExecuteNonQuery();
                        }
                        foreach (var mid in results.Select(r => r.MessageId).Distinct())
                        {
                            dMid.Value = mid;
                            retire.ExecuteNonQuery();
                        }
                    }
                }
                tx.Commit();
                foreach (var op in batch)
                {
                    if (op.Results is { } results)
                    {
                        lock (_inFlight)
                        {
                            foreach (var r in results)
                            {
                                _inFlight.Remove((r.MessageId, r.RecipientIndex));
                            }
                        }
                    }
                    op.Done.TrySetResult();
                }
                if (hasEnqueue)
                {
                    _workSignal.Release();
                }
            }
            catch (Exception e)
            {
                _log.LogError(e, "queue write failed for a batch of {Count}", batch.Count);
                foreach (var op in batch)
                {
                    if (op.Results is { } failed)
                    {
                        lock (_inFlight)
                        {
                            foreach (var r in failed)
                            {
                                _inFlight.Remove((r.MessageId, r.RecipientIndex));
                            }
                        }
                    }
                    op.Done.TrySetException(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _readConnection.Dispose();
        _readLock.Dispose();
    }

    private sealed record WriteOp(QueuedMessage? Message, IReadOnlyList<AttemptResult>? Results)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
