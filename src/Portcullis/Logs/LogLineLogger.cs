using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Portcullis.Logs;

/// <summary>
/// One line per event, in the layout of Microsoft.Extensions.Logging's simple console formatter with
/// SingleLine and UTC timestamps, which the server has always written and the tests read:
/// <c>2026-11-28T05:27:50.479Z info: portcullis.smtp[335713171] session client=...</c>.
/// Newlines inside the message or the exception become spaces, so one event is always one line (grep,
/// fail2ban). No scopes: nothing in the server uses them.
/// </summary>
public sealed class LogLineLogger(string category, LogLevel minimum, LogLineWriter writer) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception);
        var line = Format(DateTime.UtcNow, logLevel, category, eventId.Id, message, exception?.ToString());
        writer.Write(line);
    }

    /// <summary>The line for one event, ending in '\n'.</summary>
    public static string Format(DateTime utc, LogLevel level, string category, int eventId, string? message, string? exception)
    {
        var builder = new DefaultInterpolatedStringHandler(0, 0, null, stackalloc char[256]);
        AppendTimestamp(ref builder, utc);
        builder.AppendLiteral(LevelName(level));
        builder.AppendLiteral(": ");
        builder.AppendLiteral(category);
        builder.AppendLiteral("[");
        builder.AppendFormatted(eventId);
        builder.AppendLiteral("]");
        AppendOneLine(ref builder, message);
        AppendOneLine(ref builder, exception);
        builder.AppendLiteral("\n");
        return builder.ToStringAndClear();
    }

    private static void AppendOneLine(ref DefaultInterpolatedStringHandler builder, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        builder.AppendLiteral(" ");
        builder.AppendLiteral(text.Contains('\n', StringComparison.Ordinal) ? text.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ') : text);
    }

    /// <summary>yyyy-MM-ddTHH:mm:ss.fffZ and a space, written digit by digit (custom DateTime formats cost more than the rest of the line).</summary>
    private static void AppendTimestamp(ref DefaultInterpolatedStringHandler builder, DateTime utc)
    {
        Span<char> s = stackalloc char[25];
        Digits(s[..4], utc.Year);
        s[4] = '-';
        Digits(s.Slice(5, 2), utc.Month);
        s[7] = '-';
        Digits(s.Slice(8, 2), utc.Day);
        s[10] = 'T';
        Digits(s.Slice(11, 2), utc.Hour);
        s[13] = ':';
        Digits(s.Slice(14, 2), utc.Minute);
        s[16] = ':';
        Digits(s.Slice(17, 2), utc.Second);
        s[19] = '.';
        Digits(s.Slice(20, 3), utc.Millisecond);
        s[23] = 'Z';
        s[24] = ' ';
        builder.AppendFormatted((ReadOnlySpan<char>)s);
    }

    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}

/// <summary>Hands out <see cref="LogLineLogger"/>s that share one <see cref="LogLineWriter"/>.</summary>
public sealed class LogLineLoggerProvider(LogLevel minimum, Stream output) : ILoggerProvider
{
    private readonly LogLineWriter _writer = new(output);

    public ILogger CreateLogger(string categoryName) => new LogLineLogger(categoryName, minimum, _writer);

    public void Dispose() => _writer.Dispose();
}
