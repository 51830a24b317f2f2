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
    public const string Name = "serve";

    public static Command Build()
    {
        var config = CommonOptions.ConfigOption();
        var cmd = new Command(Name, "Run the mail server: inbound MX for local users (never an open relay), and submission for authenticated users when configured.")
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
            // SIGTERM (systemd's stop) and Ctrl-C are handled here, not by System.CommandLine, whose handler
            // ends the process two seconds after the signal (Program.Main turns it off for serve): the stop
            // must be allowed to finish what it waits for (open sessions get 421 4.3.2, a reply that cannot be
            // written is given up after two seconds, the listeners wait up to five).
            using var stop = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            // SIGHUP would end the process on the spot (its default action): no 421 for open sessions, log lines
            // lost. Daemons take it as "reload"; here the file is read at start only, so the server keeps running
            // and says whether a restart would start with the file as it now is.
            using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
            {
                c.Cancel = true;
                ReportReload(log, settings.SourceFile);
            });
            using var reg = ct.Register(stop.Cancel);
            await using var server = new MailServer(settings, loggers);
            // Disposed before the server (which `await using` disposes when this returns): no scrape then reads a
            // queue that is closing.
            OpenTelemetry.Metrics.MeterProvider? metrics = null;
            try
            {
                metrics = MetricsEndpoint.Start(settings.Listeners.Metrics);
                if (settings.Listeners.Metrics is { } m)
                {
                    log.LogInformation("metrics on http://{Endpoint}{Path} (Prometheus text format)", m, MetricsEndpoint.Path);
                }
                await server.StartAsync(stop.Token).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The signal; it may come during the start, when part of the server (a listener) already runs:
                // that part is stopped the same way.
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                log.LogCritical("cannot start: {Message}", e.Message);
                metrics?.Dispose();
                return 1;
            }
            await server.StopAsync().ConfigureAwait(false);
            metrics?.Dispose();
            log.LogInformation("stopped");
            return 0;
        });
        return cmd;
    }

    private static void ReportReload(ILogger log, string? file)
    {
        try
        {
            Configuration.ConfigLoader.Load(file);
            log.LogWarning("SIGHUP: the configuration ({File}) is read at start only and reads without error now: restart to apply changes to it; domains, users and aliases need no restart",
                file ?? "built-in defaults");
        }
        catch (Configuration.ConfigException e)
        {
            log.LogError("SIGHUP: the configuration ({File}) has an error, a restart would fail: {Key}: {Problem}; the server goes on with the settings it started with",
                file ?? "built-in defaults", e.Key, e.Problem);
        }
    }
}
