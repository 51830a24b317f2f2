using System.Globalization;
using System.Net;
using Portcullis.Audit.Canary;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// Builds the proof targets from the command line: the built-in canary (--canary-listen, optionally
/// --canary-advertise when the proxies must reach it at another address) and/or a mail server
/// (--through-to HOST:PORT). Owns the canary's lifetime.
/// </summary>
public sealed class ProxyDestinations : IAsyncDisposable
{
    private ProxyDestinations(IReadOnlyList<ProbeDestination> list, ProxyCanary? canary)
    {
        List = list;
        Canary = canary;
    }

    public IReadOnlyList<ProbeDestination> List { get; }

    public ProxyCanary? Canary { get; }

    public static async Task<ProxyDestinations> CreateAsync(string? canaryListen, string? canaryAdvertise, string? throughTo, TimeSpan timeout, CancellationToken ct)
    {
        if (canaryListen is null && throughTo is null)
        {
            throw new ArgumentException("give --canary-listen ADDR:PORT (a listener the proxies must reach) and/or --through-to MAILSERVER:PORT: an open proxy is only proven by traffic that went through it (catalog §5.1)");
        }
        var list = new List<ProbeDestination>();
        ProxyCanary? canary = null;
        try
        {
            if (canaryListen is not null)
            {
                var listen = ParseEndPoint(canaryListen, "--canary-listen", allowAnyPort: true);
                string host;
                if (canaryAdvertise is not null)
                {
                    host = canaryAdvertise;
                }
                else if (listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any))
                {
                    throw new ArgumentException("--canary-listen on a wildcard address needs --canary-advertise HOST: the address the proxies should connect to");
                }
                else
                {
                    host = listen.Address.ToString();
                }
                try
                {
                    canary = ProxyCanary.Start(listen);
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    throw new ArgumentException($"--canary-listen {canaryListen}: cannot listen there ({e.SocketErrorCode})", e);
                }
                var advertised = IPAddress.TryParse(host, out var a) ? a : null;
                list.Add(new CanaryDestination(canary, host, canary.LocalEndPoint.Port) { Address = advertised ?? listen.Address });
            }
            if (throughTo is not null)
            {
                var (host, port) = SplitHostPort(throughTo, "--through-to");
                try
                {
                    list.Add(await ThroughToDestination.LearnAsync(host, port, timeout, ct).ConfigureAwait(false));
                }
                catch (InvalidOperationException e)
                {
                    throw new ArgumentException(e.Message, e);
                }
            }
        }
        catch
        {
            if (canary is not null)
            {
                await canary.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
        return new ProxyDestinations(list, canary);
    }

    public static IPEndPoint ParseEndPoint(string text, string option, bool allowAnyPort = false)
    {
        var (host, port) = SplitHostPort(text, option, allowAnyPort);
        return IPAddress.TryParse(host, out var ip)
            ? new IPEndPoint(ip, port)
            : throw new ArgumentException($"{option} {text}: the address must be an IP address");
    }

    /// <summary>HOST:PORT or [IPv6]:PORT; port 0 ("any free port") only where <paramref name="allowAnyPort"/>.</summary>
    public static (string Host, int Port) SplitHostPort(string text, string option, bool allowAnyPort = false)
    {
        var t = text.Trim();
        var colon = t.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(t.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535 || port < (allowAnyPort ? 0 : 1))
        {
            throw new ArgumentException($"{option} {text}: expected HOST:PORT (IPv6 as [ADDR]:PORT)");
        }
        var host = t[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{option} {text}: write IPv6 addresses as [ADDR]:PORT");
        }
        return (host, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (Canary is not null)
        {
            await Canary.DisposeAsync().ConfigureAwait(false);
        }
    }
}
