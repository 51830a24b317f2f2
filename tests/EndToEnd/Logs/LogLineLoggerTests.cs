using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.Logs;

namespace Portcullis.EndToEnd.Tests.Logs;

/// <summary>The server's log lines: the simple-console single-line layout that operators and tests grep.</summary>
public sealed class LogLineLoggerTests
{
    private static readonly DateTime At = new(2026, 11, 28, 5, 7, 9, 45, DateTimeKind.Utc);

    [Fact]
    public void A_line_has_utc_timestamp_level_category_event_id_and_message()
    {
        Assert.Equal(
            "2026-11-28T05:07:09.045Z info: portcullis.smtp[335713171] session client=127.0.0.1:35012 end=quit\n",
            LogLineLogger.Format(At, LogLevel.Information, "portcullis.smtp", 335713171, "session client=127.0.0.1:35012 end=quit", null));
    }

    [Theory]
    [InlineData(LogLevel.Trace, "trce")]
    [InlineData(LogLevel.Debug, "dbug")]
    [InlineData(LogLevel.Warning, "warn")]
    [InlineData(LogLevel.Error, "fail")]
    [InlineData(LogLevel.Critical, "crit")]
    public void Levels_have_the_four_letter_names(LogLevel level, string name)
    {
        Assert.StartsWith($"2026-11-28T05:07:09.045Z {name}: c[0] m", LogLineLogger.Format(At, level, "c", 0, "m", null), StringComparison.Ordinal);
    }

    [Fact]
    public void Newlines_in_the_message_and_the_exception_become_spaces_so_one_event_is_one_line()
    {
        var line = LogLineLogger.Format(At, LogLevel.Error, "c", 1, "first\nsecond", "System.IO.IOException: disk\r\n   at X.Y()");

        Assert.Equal("2026-11-28T05:07:09.045Z fail: c[1] first second System.IO.IOException: disk    at X.Y()\n", line);
    }

    [Fact]
    public void Every_queued_line_is_written_by_dispose_in_order()
    {
        var output = new MemoryStream();
        using (var provider = new LogLineLoggerProvider(LogLevel.Information, output))
        {
            var log = provider.CreateLogger("portcullis.test");
            Parallel.For(0, 4, t =>
            {
                for (var i = 0; i < 5000; i++)
                {
                    log.LogInformation("thread {Thread} line {Line}", t, i);
                }
            });
            log.LogDebug("below the minimum level");
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20000, lines.Length);
        Assert.DoesNotContain(lines, l => l.Contains("below the minimum", StringComparison.Ordinal));
        for (var t = 0; t < 4; t++)
        {
            // Each thread's lines keep their order; none is torn or interleaved with another.
            var mine = lines.Where(l => l.EndsWith($" info: portcullis.test[0] thread {t} line {l.Split(' ')[^1]}", StringComparison.Ordinal)).Select(l => int.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, 5000), mine);
        }
    }

    [Fact]
    public void Disposing_the_servers_logger_factory_writes_the_lines_still_queued()
    {
        var output = new MemoryStream();
        var factory = Logging.Create(LogLevel.Information, output);
        var log = factory.CreateLogger("portcullis");
        for (var i = 0; i < 1000; i++)
        {
            log.LogInformation("line {Line}", i);
        }
        log.LogInformation("stopped");

        factory.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1001, lines.Length);
        Assert.EndsWith(" info: portcullis[0] stopped", lines[^1], StringComparison.Ordinal);
    }
}
