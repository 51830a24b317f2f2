using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>What the server cannot start with gets one line naming the file or setting and exit 1, never a stack trace.</summary>
public sealed class StartFailureTests
{
    [Theory]
    [InlineData("directory.db", "directory database {0}: SQLite Error 26: 'file is not a database'. (restore it from a backup)")]
    [InlineData("queue/queue.db", "queue database {0}: SQLite Error 26: 'file is not a database'. (it holds acknowledged messages: restore it from a backup, do not delete it)")]
    [InlineData("", "storage.data_dir ({0}): cannot create it: ")]
    public async Task A_damaged_database_or_an_unusable_data_dir_stops_the_start_with_one_line_naming_it(string file, string expected)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-start-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var data = Path.Combine(dir, "data");
            var damaged = file.Length == 0 ? data : Path.Combine(data, file);
            Directory.CreateDirectory(Path.GetDirectoryName(damaged)!);
            // Not a database (for data_dir: a file where the directory should be).
            File.WriteAllText(damaged, "this is not an SQLite database, it is a text file that is long enough to have a header\n");
            var config = Path.Combine(dir, "portcullis.toml");
            File.WriteAllText(config, "[server]\nhostname = \"mx.example.test\"\n[storage]\ndata_dir = \"data\"\n[listeners]\nmx = \"127.0.4.80:2525\"\n");
            var (code, _, stderr) = await PortcullisProcess.RunAsync(["serve", "--config", config]);
            Assert.Equal(1, code);
            Assert.Contains("cannot start: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, damaged), stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.DoesNotContain("Unhandled exception", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
