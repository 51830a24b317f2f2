using Microsoft.Data.Sqlite;

namespace Portcullis.Server.Storage;

/// <summary>What `portcullis check` reports of one of the server's SQLite databases: SQLite's quick_check verdict and row counts.</summary>
public sealed record DatabaseInspection(string QuickCheck, IReadOnlyDictionary<string, long> Counts)
{
    public bool Intact => QuickCheck == "ok";

    /// <summary>
    /// Opens an existing database without creating or migrating it (ReadWrite without Create; nothing is written but
    /// what any reader does, WAL recovery), runs PRAGMA quick_check, and when it passes the given counting queries.
    /// Throws <see cref="SqliteException"/> when the file is not a database.
    /// </summary>
    public static DatabaseInspection Inspect(string path, IReadOnlyDictionary<string, string> countQueries)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        c.Open();
        using var check = c.CreateCommand();
        check.CommandText = "PRAGMA quick_check";
        var verdict = check.ExecuteScalar() as string ?? "no answer";
        var counts = new Dictionary<string, long>();
        if (verdict == "ok")
        {
            foreach (var (name, sql) in countQueries)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = sql;
                counts[name] = cmd.ExecuteScalar() is long n ? n : 0;
            }
        }
        return new DatabaseInspection(verdict, counts);
    }
}
