using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Portcullis.Server.Configuration;

namespace Portcullis;

/// <summary>Log lines go to standard error, one line each with a UTC timestamp, so they can be grepped and fed to fail2ban.</summary>
public static class Logging
{
    public static ILoggerFactory Create(PortcullisSettings settings) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(settings.LogLevel);
            b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
            b.Services.Configure<ConsoleLoggerOptions>(o =>
            {
                o.LogToStandardErrorThreshold = LogLevel.Trace;
                o.QueueFullMode = ConsoleLoggerQueueFullMode.Wait;
            });
        });
}
