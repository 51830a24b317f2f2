using System.Net;
using MailKit.Security;
using Portcullis.Server.Configuration;

namespace Portcullis.Server.Remote;

/// <summary>
/// How the agent reaches a destination: straight to the domain's MX on delivery.mx_port with
/// opportunistic STARTTLS, or everything through the smarthost (delivery.relay_host) with the configured
/// TLS mode and optional credentials.
/// </summary>
public sealed record NextHop(string? SmarthostHost, int Port, SecureSocketOptions Tls, bool Opportunistic, string? Username, string? Password)
{
    public bool IsSmarthost => SmarthostHost is not null;

    public static NextHop From(DeliverySection delivery)
    {
        if (string.IsNullOrWhiteSpace(delivery.RelayHost))
        {
            // RFC 3207 §4 / RFC 7435: opportunistic TLS — use STARTTLS when offered, accept any certificate
            // (an MX certificate cannot be checked without MTA-STS or DANE, a later issue).
            return new NextHop(null, delivery.MxPort, SecureSocketOptions.StartTlsWhenAvailable, true, null, null);
        }
        var mode = delivery.RelayTls.Trim().ToLowerInvariant();
        var (tls, defaultPort) = mode switch
        {
            "implicit" => (SecureSocketOptions.SslOnConnect, 465),
            "none" => (SecureSocketOptions.None, 25),
            _ => (SecureSocketOptions.StartTls, 587),
        };
        if (!HostPort.TryParse(delivery.RelayHost, defaultPort, out var host, out var port))
        {
            throw new ArgumentException($"delivery.relay_host: \"{delivery.RelayHost}\" is not HOST[:PORT]");
        }
        return new NextHop(host, port, tls, false, delivery.RelayUsername, delivery.RelayPassword);
    }

    /// <summary>The smarthost as a route: its name (resolved by the system) or its address.</summary>
    public MxRoute SmarthostRoute()
    {
        var addresses = IPAddress.TryParse(SmarthostHost, out var ip) ? [ip] : Array.Empty<IPAddress>();
        return new MxRoute([new MxHost(SmarthostHost!, 0, addresses)], null);
    }
}
