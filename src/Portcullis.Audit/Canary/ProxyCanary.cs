using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Audit.Canary;

/// <summary>What the canary saw when a proxy connected to it on the auditor's behalf.</summary>
public sealed record ProxyCanaryHit(string Token, IPEndPoint Peer, DateTimeOffset At, string Kind, string? FirstLine);

/// <summary>
/// The auditor's own target for proxy tests (catalog §5.1 HOPM "target", §6.2 step 4). Every accepted
/// connection gets a fresh random token: an HTTP request relayed by a proxy (GET/POST with an absolute URI)
/// gets "HTTP/1.0 200 OK" carrying the token; anything else gets an SMTP-style banner
/// "220 portcullis-canary TOKEN ESMTP". A prober proves a proxy open by reading a token back through
/// the proxy and claiming it here: the claim succeeds only for a token this canary issued, once, which
/// also shows the canary saw the inbound connection. Nothing is relayed and no mail is accepted.
/// </summary>
public sealed partial class ProxyCanary : IAsyncDisposable
{
    /// <summary>How long to wait for a relayed HTTP request before greeting like an SMTP server.</summary>
    private static readonly TimeSpan HttpSniff = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly ConcurrentDictionary<string, ProxyCanaryHit> _issued = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _connections;

    private ProxyCanary(Socket listener)
    {
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Where the canary listens.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Connections accepted so far (for reports and tests).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static ProxyCanary Start(IPEndPoint listenOn)
    {
        var s = new Socket(listenOn.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(listenOn);
            s.Listen(512);
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return new ProxyCanary(s);
    }

    /// <summary>Tokens look like "PCX" + 20 upper-case hex digits: random, never a generic keyword (catalog §7, nuclei false positives).</summary>
    [GeneratedRegex("PCX[0-9A-F]{20}", RegexOptions.CultureInvariant)]
    public static partial Regex TokenPattern();

    /// <summary>Claims a token read back through a proxy. Succeeds once, and only for a token this canary issued.</summary>
    public bool TryClaim(string token, out ProxyCanaryHit hit) => _issued.TryRemove(token, out hit!);

    /// <summary>Finds and claims the first issued token in text read through a proxy.</summary>
    public ProxyCanaryHit? ClaimFirstIn(string text)
    {
        foreach (Match m in TokenPattern().Matches(text))
        {
            if (TryClaim(m.Value, out var hit))
            {
                return hit;
            }
        }
        return null;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var token = "PCX" + Convert.ToHexString(RandomNumberGenerator.GetBytes(10));
        var peer = (IPEndPoint)client.RemoteEndPoint!;
        var buf = new byte[4096];
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            idle.CancelAfter(HttpSniff);
            var got = 0;
            try
            {
                // Read until the request line is complete or the sniff time ends.
                while (got < buf.Length && Array.IndexOf(buf, (byte)'\n', 0, got) < 0)
                {
                    var n = await client.ReceiveAsync(buf.AsMemory(got), SocketFlags.None, idle.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }
                    got += n;
                }
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                // Nothing (or no full line) within the sniff time: the client waits for a server greeting.
            }
            var firstLine = FirstLine(buf.AsSpan(0, got));
            if (IsHttpRequestLine(firstLine))
            {
                _issued[token] = new ProxyCanaryHit(token, peer, DateTimeOffset.UtcNow, "http", firstLine);
                var body = $"portcullis proxy canary {token}: this request came through a proxy\r\n";
                var reply = $"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nX-Portcullis-Canary: {token}\r\nConnection: close\r\n\r\n{body}";
                await client.SendAsync(Encoding.ASCII.GetBytes(reply), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                client.Shutdown(SocketShutdown.Send);
                return;
            }
            _issued[token] = new ProxyCanaryHit(token, peer, DateTimeOffset.UtcNow, "smtp", firstLine.Length > 0 ? firstLine : null);
            await client.SendAsync(Encoding.ASCII.GetBytes($"220 portcullis-canary {token} ESMTP proxy test, nothing is relayed\r\n"), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            await ConverseAsync(client, buf).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The proxy or the prober went away: nothing to clean up beyond the socket.
        }
    }

    /// <summary>A few polite SMTP replies until QUIT or idle; never accepts mail.</summary>
    private async Task ConverseAsync(Socket client, byte[] buf)
    {
        var lines = 0;
        var pending = new StringBuilder();
        while (lines < 20)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            idle.CancelAfter(IdleTimeout);
            var n = await client.ReceiveAsync(buf, SocketFlags.None, idle.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }
            pending.Append(Encoding.Latin1.GetString(buf, 0, n));
            string text;
            while ((text = pending.ToString()).Contains('\n', StringComparison.Ordinal))
            {
                var nl = text.IndexOf('\n', StringComparison.Ordinal);
                var line = text[..nl].TrimEnd('\r');
                pending.Remove(0, nl + 1);
                lines++;
                if (line.Length == 0)
                {
                    continue;
                }
                if (line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase))
                {
                    await client.SendAsync("221 2.0.0 portcullis-canary bye\r\n"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
                    return;
                }
                await client.SendAsync("502 5.5.2 portcullis-canary: nothing is relayed\r\n"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
            }
        }
    }

    private static string FirstLine(ReadOnlySpan<byte> data)
    {
        var nl = data.IndexOf((byte)'\n');
        var line = nl >= 0 ? data[..nl] : data;
        var text = Encoding.Latin1.GetString(line[..Math.Min(line.Length, 200)]).TrimEnd('\r');
        return text;
    }

    private static bool IsHttpRequestLine(string line)
    {
        var parts = line.Split(' ');
        return parts.Length == 3 && parts[2].StartsWith("HTTP/", StringComparison.Ordinal) &&
               parts[0].Length > 0 && parts[0].All(char.IsAsciiLetterUpper);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopping
        }
        _stop.Dispose();
    }
}
