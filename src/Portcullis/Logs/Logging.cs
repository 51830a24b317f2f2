using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;

namespace Portcullis.Logs;

/// <summary>Log lines go to standard error, one line each with a UTC timestamp, so they can be grepped and fed to fail2ban.</summary>
public static class Logging
{
    public static ILoggerFactory Create(PortcullisSettings settings) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(settings.LogLevel);
            b.AddProvider(new LogLineLoggerProvider(settings.LogLevel, Console.OpenStandardError()));
        });
}
