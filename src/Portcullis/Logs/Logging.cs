using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Configuration;

namespace Portcullis.Logs;

/// <summary>Log lines go to standard error, one line each with a UTC timestamp, so they can be grepped and fed to fail2ban.</summary>
public static class Logging
{
    public static ILoggerFactory Create(PortcullisSettings settings) => Create(settings.LogLevel, Console.OpenStandardError());

    /// <summary>
    /// Disposing the factory writes every queued line. The provider is made by the container (a factory
    /// delegate, not an instance) so that the container disposes it: providers handed over as instances are
    /// never disposed, and the lines of the last 20 ms would be lost at exit.
    /// </summary>
    public static ILoggerFactory Create(LogLevel minimum, Stream output) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(minimum);
            b.Services.AddSingleton<ILoggerProvider>(_ => new LogLineLoggerProvider(minimum, output));
        });
}
