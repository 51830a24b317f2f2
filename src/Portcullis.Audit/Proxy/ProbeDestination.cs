using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Audit.Canary;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// Where the auditor asks a proxy to connect: the built-in canary or a mail server the user names.
/// Each knows what proof looks like when read back through the proxy.
/// </summary>
public abstract class ProbeDestination
{
    protected ProbeDestination(string host, int port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>Host as written into the proxy request (IP literal or name).</summary>
    public string Host { get; }

    public int Port { get; }

    public string Authority => ProxyHandshake.Authority(Host, Port);

    public abstract string Describe { get; }

    /// <summary>
    /// Looks for proof in bytes read through the proxy after its grant. <paramref name="firstLineOnly"/>:
    /// the tunnel's first line must be the proof (CONNECT, SOCKS); otherwise any line may carry it
    /// (gateways print "Connecting..." first). Returns a sentence describing the proof, or null.
    /// </summary>
    public abstract string? Prove(string relayed, bool firstLineOnly);

    /// <summary>Cheap look (no claim) used to stop reading early: does the text seem to hold the proof?</summary>
    public abstract bool Seen(string relayed, bool firstLineOnly);

    /// <summary>The IPv4 address for SOCKS4 requests, when the destination has one.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>An IPv4 address for SOCKS4, when the host is (or resolves to) one.</summary>
    public IPAddress? Ipv4 => Address is { AddressFamily: AddressFamily.InterNetwork } a ? a
        : IPAddress.TryParse(Host, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork ? ip : null;
}

/// <summary>The built-in canary: open = one of its tokens came back and was claimed.</summary>
public sealed class CanaryDestination(ProxyCanary canary, string host, int port) : ProbeDestination(host, port)
{
    public ProxyCanary Canary { get; } = canary;

    public override string Describe => $"canary {Authority}";

    public override string? Prove(string relayed, bool firstLineOnly)
    {
        var hit = Canary.ClaimFirstIn(relayed);
        return hit is null
            ? null
            : $"canary token {hit.Token} came back through the proxy; the canary saw the proxy connect from {hit.Peer} ({hit.Kind}{(hit.FirstLine is { } l ? ", first line \"" + l + "\"" : "")})";
    }

    public override bool Seen(string relayed, bool firstLineOnly) => ProxyCanary.TokenPattern().IsMatch(relayed);
}

/// <summary>
/// A mail server named with --through-to: open = its 220 greeting (as read directly) came back through
/// the proxy as the first thing after the grant (pxytest's "CONNECT to port 25" proof, catalog §5.2).
/// </summary>
public sealed class ThroughToDestination(string host, int port, GreetingPattern greeting) : ProbeDestination(host, port)
{
    public GreetingPattern Greeting { get; } = greeting;

    public override string Describe => $"mail server {Authority}";

    public override string? Prove(string relayed, bool firstLineOnly)
    {
        var lines = relayed.Split('\n');
        foreach (var raw in firstLineOnly ? lines.Take(1) : lines)
        {
            var line = raw.TrimEnd('\r');
            if (Greeting.Matches(line))
            {
                return $"the 220 greeting of {Authority} came back through the proxy: \"{line}\" (direct: \"{Greeting.Example}\")";
            }
        }
        return null;
    }

    public override bool Seen(string relayed, bool firstLineOnly) =>
        firstLineOnly ? relayed.Contains('\n', StringComparison.Ordinal) : Prove(relayed, false) is not null;

    /// <summary>Reads the server's greeting directly, twice, to learn its stable words.</summary>
    public static async Task<ThroughToDestination> LearnAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        var first = await ReadGreetingAsync(host, port, timeout, ct).ConfigureAwait(false);
        var second = await ReadGreetingAsync(host, port, timeout, ct).ConfigureAwait(false);
        if (!GreetingPattern.TryLearn(first, second, out var pattern, out var error))
        {
            throw new InvalidOperationException($"--through-to {ProxyHandshake.Authority(host, port)}: {error}");
        }
        var address = IPAddress.TryParse(host, out var literal) ? literal
            : (await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, ct).ConfigureAwait(false)).FirstOrDefault();
        return new ThroughToDestination(host, port, pattern) { Address = address };
    }

    private static async Task<string> ReadGreetingAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            var buf = new byte[1024];
            var got = 0;
            while (got < buf.Length && Array.IndexOf(buf, (byte)'\n', 0, got) < 0)
            {
                var n = await stream.ReadAsync(buf.AsMemory(got), cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                got += n;
            }
            try
            {
                await stream.WriteAsync("QUIT\r\n"u8.ToArray(), cts.Token).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // the server already closed: the greeting is what we needed
            }
            var text = Encoding.Latin1.GetString(buf, 0, got);
            var nl = text.IndexOf('\n', StringComparison.Ordinal);
            return (nl >= 0 ? text[..nl] : text).TrimEnd('\r');
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            throw new InvalidOperationException($"--through-to {ProxyHandshake.Authority(host, port)}: cannot read its greeting directly ({e.Message})", e);
        }
    }
}
