using Microsoft.Data.Sqlite;
using Portcullis.Server.Policy;

namespace Portcullis.Server.Queue;

/// <summary>Where one recipient of a queued message stands.</summary>
public enum RecipientStatus
{
    Pending = 0,
    Delivered = 1,
    Failed = 2,
}

/// <summary>One recipient as `portcullis queue list/show` shows it.</summary>
public sealed record QueuedRecipientState(int Index, string Address, RecipientRoute Route, RecipientStatus Status, int Attempts, DateTimeOffset NextAttempt, string? LastError);

/// <summary>One queued message as `portcullis queue list/show` shows it (content only for show).</summary>
public sealed record QueuedMessageState(long Id, string Sender, DateTimeOffset ReceivedAt, bool IsBounce, string? EnvelopeId, string? Ret, long Size, IReadOnlyList<QueuedRecipientState> Recipients, byte[]? Content);

/// <summary>
/// The administrator's view of the queue (`portcullis queue list|show|retry|delete`), used from a separate
/// process while the server runs. It opens queue.db with its own connection; SQLite's WAL lets it read
/// while the server writes, and its few writes wait for the server's commits (busy_timeout). The running
/// server polls for due work at least every second, so a retry takes effect within about a second.
/// </summary>
public sealed class QueueAdmin : IDisposable
{
    private readonly SqliteConnection _db;

    private QueueAdmin(SqliteConnection db) => _db = db;

    public static string DatabasePath(string dataDir) => Path.Combine(dataDir, "queue", "queue.db");

    /// <summary>`portcullis check`: an existing queue database's integrity, its messages and the recipients still to deliver, changing nothing.</summary>
    public static Storage.DatabaseInspection Inspect(string path) => Storage.DatabaseInspection.Inspect(path, new Dictionary<string, string>
    {
        ["messages"] = "SELECT count(*) FROM messages",
        ["pending"] = "SELECT count(*) FROM recipients WHERE status = " + (int)RecipientStatus.Pending,
    });

    /// <summary>Opens the queue of a data directory; null when there is no queue yet (nothing was ever queued).</summary>
    public static QueueAdmin? Open(string dataDir)
    {
        var path = DatabasePath(dataDir);
        if (!File.Exists(path))
        {
            return null;
        }
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 30 }.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
        cmd.ExecuteNonQuery();
        return new QueueAdmin(db);
    }

    /// <summary>Every queued message, oldest first, with its recipients (no content).</summary>
    public IReadOnlyList<QueuedMessageState> List() => Read(null, withContent: false);

    /// <summary>One message with its content; null when it is not (or no longer) queued.</summary>
    public QueuedMessageState? Show(long id) => Read(id, withContent: true).SingleOrDefault();

    /// <summary>Makes the pending recipients of one message (or of all, when <paramref name="id"/> is null) due now. Returns how many.</summary>
    public int RetryNow(long? id)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "UPDATE recipients SET next_attempt = $now WHERE status = 0" + (id is null ? "" : " AND message_id = $id");
        cmd.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (id is not null)
        {
            cmd.Parameters.AddWithValue("$id", id.Value);
        }
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Removes a message and its recipients without delivering or bouncing it. Returns false when it is not queued.</summary>
    public bool Delete(long id)
    {
        using var tx = _db.BeginTransaction();
        using var rcpts = _db.CreateCommand();
        rcpts.Transaction = tx;
        rcpts.CommandText = "DELETE FROM recipients WHERE message_id = $id";
        rcpts.Parameters.AddWithValue("$id", id);
        rcpts.ExecuteNonQuery();
        using var msg = _db.CreateCommand();
        msg.Transaction = tx;
        msg.CommandText = "DELETE FROM messages WHERE id = $id";
        msg.Parameters.AddWithValue("$id", id);
        var deleted = msg.ExecuteNonQuery() > 0;
        tx.Commit();
        return deleted;
    }

    private List<QueuedMessageState> Read(long? id, bool withContent)
    {
        var recipients = new Dictionary<long, List<QueuedRecipientState>>();
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT message_id, idx, address, route, status, attempts, next_attempt, last_error FROM recipients"
                + (id is null ? "" : " WHERE message_id = $id") + " ORDER BY message_id, idx";
            if (id is not null)
            {
                cmd.Parameters.AddWithValue("$id", id.Value);
            }
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var mid = r.GetInt64(0);
                if (!recipients.TryGetValue(mid, out var list))
                {
                    recipients[mid] = list = [];
                }
                list.Add(new QueuedRecipientState(r.GetInt32(1), r.GetString(2), (RecipientRoute)r.GetInt32(3), (RecipientStatus)r.GetInt32(4),
                    r.GetInt32(5), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)), r.IsDBNull(7) ? null : r.GetString(7)));
            }
        }
        var messages = new List<QueuedMessageState>();
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT id, sender, received_at, is_bounce, envid, ret, length(content)" + (withContent ? ", content" : "") + " FROM messages"
                + (id is null ? "" : " WHERE id = $id") + " ORDER BY id";
            if (id is not null)
            {
                cmd.Parameters.AddWithValue("$id", id.Value);
            }
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var mid = r.GetInt64(0);
                messages.Add(new QueuedMessageState(mid, r.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetInt32(3) != 0,
                    r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt64(6),
                    recipients.TryGetValue(mid, out var list) ? list : [], withContent ? (byte[])r.GetValue(7) : null));
            }
        }
        return messages;
    }

    public void Dispose() => _db.Dispose();
}
