using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Portcullis.Logs;
using Portcullis.Server;
using Portcullis.Server.Hosting;

namespace Portcullis.Cli;

/// <summary>`portcullis serve`: runs the mail server until SIGTERM or Ctrl-C.</summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var config = CommonOptions.ConfigOption();
        var cmd = new Command("serve", "Run the mail server: inbound MX for local users (never an open relay), and submission for authenticated users when configured.")
        {
            config,
        };
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var settings = CommonOptions.LoadSettings(r.GetValue(config));
            if (settings is null)
            {
                return CommonOptions.ConfigErrorExitCode;
            }
            var inline = SocketEventThreads.PreferInline(); // before any socket exists
            using var loggers = Logging.Create(settings);
            var log = loggers.CreateLogger("portcullis");
            log.LogDebug("socket continuations run on {Where} ({Variable}); event threads: {Count} ({CountVariable})", inline ? "the event threads" : "the thread pool", SocketEventThreads.Variable,
                Environment.GetEnvironmentVariable(SocketEventThreads.CountVariable) ?? ".NET's default", SocketEventThreads.CountVariable);
            await using var server = new MailServer(settings, loggers);
            try
            {
                await server.StartAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                log.LogCritical("cannot start: {Message}", e.Message);
                return 1;
            }
            var stop = new TaskCompletionSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
            using var reg = ct.Register(() => stop.TrySetResult());
            await stop.Task.ConfigureAwait(false);
            await server.StopAsync().ConfigureAwait(false);
            log.LogInformation("stopped");
            return 0;
        });
        return cmd;
    }
}
