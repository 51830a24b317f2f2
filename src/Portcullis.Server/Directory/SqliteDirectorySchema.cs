using Microsoft.Data.Sqlite;

namespace Portcullis.Server.Directory;

/// <summary>
/// The directory's tables and their migrations. Each migration runs once, in order, inside the same
/// immediate transaction that records the new schema_version, so two processes opening a fresh file at
/// the same moment cannot both apply it.
/// </summary>
internal static class SqliteDirectorySchema
{
    private static readonly string[] Migrations =
    [
        // 1: domains, users (with their SCRAM credential text, never a password), aliases, and the
        // change counter the running server polls (one row, bumped by every write).
        """
        CREATE TABLE domains (
            name    TEXT PRIMARY KEY NOT NULL,
            created TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE users (
            address    TEXT PRIMARY KEY NOT NULL,
            domain     TEXT NOT NULL REFERENCES domains(name),
            credential TEXT NOT NULL,
            created    TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX users_by_domain ON users(domain);
        CREATE TABLE aliases (
            address TEXT PRIMARY KEY NOT NULL,
            domain  TEXT NOT NULL REFERENCES domains(name),
            target  TEXT NOT NULL,
            created TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX aliases_by_domain ON aliases(domain);
        CREATE INDEX aliases_by_target ON aliases(target);
        CREATE TABLE directory_version (
            id      INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO directory_version (id, version) VALUES (1, 0);
        """,
    ];

    public static int CurrentVersion => Migrations.Length;

    public static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "SELECT max(version) FROM schema_version";
        var found = read.ExecuteScalar() is long v ? (int)v : 0;
        if (found > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"the directory database has schema version {found}, newer than this Portcullis understands ({CurrentVersion}); upgrade Portcullis");
        }
        for (var next = found + 1; next <= CurrentVersion; next++)
        {
            Execute(connection, transaction, Migrations[next - 1]);
            Execute(connection, transaction, $"DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ({next})");
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
