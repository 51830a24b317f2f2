using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Portcullis.Server.Smtp;
using Portcullis.Server.Telemetry;

namespace Portcullis.Cli;

/// <summary>
/// Serves the server's metrics (<see cref="ServerMetrics"/>) over HTTP at /metrics in Prometheus's text format,
/// when `listeners.metrics` is set. Off by default: the endpoint has no authentication, so it belongs on
/// loopback or a management network, never on the address the MX listens on for the Internet.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Starts the endpoint, or returns null when none is configured. Throws <see cref="InvalidOperationException"/> naming the key when it cannot listen.</summary>
    public static MeterProvider? Start(IPEndPoint? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }
        // HttpListener matches a request's Host header against its prefix; "+" takes any (the wildcard address).
        // The prefix is set here, not through the options' Host, which does not take "+". IPv4 only: the
        // configuration refuses an IPv6 address (HttpListener on Linux parses no IPv6 literal).
        var host = endpoint.Address.Equals(IPAddress.Any) ? "+" : endpoint.Address.ToString();
        var prefix = $"http://{host}:{endpoint.Port}/";
        try
        {
            return Sdk.CreateMeterProviderBuilder()
                .AddMeter(ServerMetrics.MeterName)
                .AddPrometheusHttpListener(o =>
                {
                    o.ConfigureHttpListener = (_, listener) =>
                    {
                        listener.Prefixes.Clear();
                        listener.Prefixes.Add(prefix);
                    };
                    o.ScrapeEndpointPath = Path;
                    // Only the server's own series: no otel_scope_* labels or target_info to filter out.
                    o.ScopeInfoEnabled = false;
                    o.TargetInfoEnabled = false;
                    // Every scrape sees the counts of that moment (scrapes are seconds apart; nothing to save).
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                })
                .Build();
        }
        catch (Exception e) when (e is InvalidOperationException or HttpListenerException or SocketException)
        {
            throw new InvalidOperationException($"listeners.metrics ({endpoint}): {Reason(e)}", e);
        }
    }

    private static string Reason(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case SocketException s:
                    return SmtpListener.BindFailureReason(s.SocketErrorCode, s.Message);
                case HttpListenerException h:
                    // On Linux HttpListener reports the bind's errno (<errno.h>: EACCES 13, EADDRINUSE 98, EADDRNOTAVAIL 99).
                    return SmtpListener.BindFailureReason(h.ErrorCode switch
                    {
                        13 => SocketError.AccessDenied,
                        98 => SocketError.AddressAlreadyInUse,
                        99 => SocketError.AddressNotAvailable,
                        _ => SocketError.SocketError,
                    }, h.Message);
            }
        }
        return e.Message;
    }
}
