using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Cli;

/// <summary>`portcullis check`: the configuration and what a start depends on, looked at without changing anything.</summary>
public sealed class CheckCommandTests
{
    private static string Line(string stdout, string subject) =>
        stdout.Split('\n').SingleOrDefault(l => l.Length > 6 && l[6..].StartsWith(subject + " ", StringComparison.Ordinal)) ?? $"(no {subject} line in:\n{stdout})";

    /// <summary>
    /// Runs <paramref name="test"/> with a fresh directory holding a portcullis.toml (data_dir "data", these listeners)
    /// and deletes it afterwards; the test gets the directory and the configuration file.
    /// </summary>
    private static async Task InConfiguredDirectoryAsync(string listeners, Func<string, string, Task> test)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-check-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var config = Path.Combine(dir, "portcullis.toml");
            File.WriteAllText(config, "[server]\nhostname = \"mx.example.test\"\n[storage]\ndata_dir = \"data\"\n[listeners]\n" + listeners);
            await test(dir, config);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public Task On_a_fresh_install_check_says_what_the_first_start_will_make_and_exits_0_without_making_it() =>
        InConfiguredDirectoryAsync("mx = \"127.0.4.90:2525\"\n", async (dir, config) =>
        {
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["check", "--config", config]);
            Assert.True(code == 0, stdout + stderr);
            Assert.StartsWith("ok    configuration", Line(stdout, "configuration"), StringComparison.Ordinal);
            Assert.Contains("does not exist yet; the first start makes it", Line(stdout, "data_dir"));
            Assert.Contains("not created yet", Line(stdout, "directory"));
            Assert.Contains("not created yet", Line(stdout, "queue"));
            Assert.Contains("self-signed certificate is generated at the first start", Line(stdout, "tls"));
            Assert.False(Directory.Exists(Path.Combine(dir, "data")), "check made the data directory");
        });

    [Fact]
    public async Task Beside_a_running_server_check_counts_the_directory_and_the_queue_and_reads_the_certificate()
    {
        await using var server = await ServerInstance.StartAsync();
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["check", "--config", server.ConfigFile]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("ok, 1 domain, 2 users, 1 alias", Line(stdout, "directory"));
        Assert.Contains("ok, 0 messages, 0 recipients to deliver", Line(stdout, "queue"));
        Assert.Contains("(self-signed): CN=mx.example.test, ends ", Line(stdout, "tls"));
        Assert.StartsWith("ok", Line(stdout, "tls"), StringComparison.Ordinal);
    }

    [Fact]
    public Task A_damaged_queue_database_fails_the_check_with_exit_1_naming_the_file() =>
        InConfiguredDirectoryAsync("mx = \"127.0.4.90:2525\"\n", async (dir, config) =>
        {
            var queue = Path.Combine(dir, "data", "queue", "queue.db");
            Directory.CreateDirectory(Path.GetDirectoryName(queue)!);
            File.WriteAllText(queue, "this is not an SQLite database, it is a text file that is long enough to have a header\n");
            var (code, stdout, _) = await PortcullisProcess.RunAsync(["check", "--config", config]);
            Assert.Equal(1, code);
            Assert.StartsWith($"fail  queue         {queue}: ", Line(stdout, "queue"), StringComparison.Ordinal);
            Assert.StartsWith("ok", Line(stdout, "data_dir"), StringComparison.Ordinal);
        });

    [Fact]
    public Task A_directory_database_whose_pages_are_damaged_fails_the_quick_check() =>
        InConfiguredDirectoryAsync("mx = \"127.0.4.90:2525\"\n", async (dir, config) =>
        {
            // A database that opens (its header is intact) but one of whose table pages is zeroed.
            var db = Path.Combine(dir, "data", "directory.db");
            Directory.CreateDirectory(Path.GetDirectoryName(db)!);
            using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = """
                    CREATE TABLE domains (name TEXT PRIMARY KEY);
                    CREATE TABLE users (address TEXT PRIMARY KEY);
                    CREATE TABLE aliases (address TEXT PRIMARY KEY);
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                    INSERT INTO users SELECT 'user' || i || '@example.test' FROM n;
                    """;
                cmd.ExecuteNonQuery();
            }
            using (var f = new FileStream(db, FileMode.Open, FileAccess.Write))
            {
                f.Seek(4096 * 10, SeekOrigin.Begin);
                f.Write(new byte[4096]);
            }
            var (code, stdout, _) = await PortcullisProcess.RunAsync(["check", "--config", config]);
            Assert.Equal(1, code);
            Assert.StartsWith($"fail  directory     {db}: damaged: ", Line(stdout, "directory"), StringComparison.Ordinal);
        });

    [Fact]
    public async Task A_port_below_1024_is_a_warning_for_a_user_without_cap_net_bind_service_and_nothing_for_root()
    {
        if (Environment.UserName != "root")
        {
            return; // the test drops the capability from a root process; CI runs as root
        }
        await InConfiguredDirectoryAsync("mx = \"127.0.4.91:25\"\nsubmission = \"127.0.4.91:5587\"\n", async (_, config) =>
        {
            var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["check", "--config", config]);
            Assert.True(code == 0, stdout + stderr);
            Assert.DoesNotContain("CAP_NET_BIND_SERVICE", stdout);

            string[] withoutBind = ["setpriv", "--inh-caps=-net_bind_service", "--ambient-caps=-net_bind_service", "--bounding-set=-net_bind_service", "--"];
            (code, stdout, stderr) = await PortcullisProcess.RunAsync(["check", "--config", config], launcher: withoutBind);
            Assert.True(code == 0, stdout + stderr); // a warning: the server itself may run with the capability
            var warning = Assert.Single(stdout.Split('\n'), l => l.Contains("CAP_NET_BIND_SERVICE", StringComparison.Ordinal));
            Assert.StartsWith("warn  listeners     listeners.mx (127.0.4.91:25): ports below ", warning, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_configuration_error_is_exit_2_with_the_key_as_for_serve()
    {
        var (code, _, stderr) = await PortcullisProcess.RunAsync(["check"], new Dictionary<string, string> { ["PORTCULLIS__LIMITS__MAX_ERRORS"] = "0" });
        Assert.Equal(2, code);
        Assert.StartsWith("portcullis: configuration error: limits.max_errors: ", stderr, StringComparison.Ordinal);
    }
}
