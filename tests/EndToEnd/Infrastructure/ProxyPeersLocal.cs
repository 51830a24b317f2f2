using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Small servers the scan tests start on their own loopback block (127.0.3.64/27): SMTP servers that accept
/// or refuse a foreign RCPT, a real relaying SOCKS5 proxy, a closed HTTP proxy (403) and the trap that answers
/// "200 Connection established" but never connects.
/// </summary>
public sealed class ProxyPeersLocal : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProxyPeersLocal(string address, int port, Func<Socket, CancellationToken, Task> handler)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Parse(address), port));
        _listener.Listen(64);
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try
                {
                    s = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                    continue;
                }
                _ = Task.Run(async () =>
                {
                    using (s)
                    {
                        try
                        {
                            await handler(s, _stop.Token);
                        }
                        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
                        {
                        }
                    }
                });
            }
        });
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>An SMTP server that greets, and answers RCPT with <paramref name="rcptReply"/> (never takes DATA).</summary>
    public static Func<Socket, CancellationToken, Task> Smtp(string host, string rcptReply) => async (s, ct) =>
    {
        await using var stream = new NetworkStream(s, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync($"220 {host} ESMTP test server");
        string? line;
        while ((line = await reader.ReadLineAsync(ct)) is not null)
        {
            var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
            switch (verb)
            {
                case "EHLO": await writer.WriteLineAsync($"250-{host}\r\n250 8BITMIME"); break;
                case "HELO": case "MAIL": case "RSET": case "NOOP": await writer.WriteLineAsync("250 2.0.0 ok"); break;
                case "RCPT": await writer.WriteLineAsync(rcptReply); break;
                case "QUIT": await writer.WriteLineAsync("221 2.0.0 bye"); return;
                default: await writer.WriteLineAsync("502 5.5.2 not here"); break;
            }
        }
    };

    /// <summary>A closed HTTP proxy: 403 to every request line.</summary>
    public static async Task ClosedHttpProxy(Socket s, CancellationToken ct)
    {
        var buf = new byte[4096];
        if (await s.ReceiveAsync(buf, SocketFlags.None, ct) > 0)
        {
            await s.SendAsync("HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
        }
    }

    /// <summary>Answers "HTTP/1.0 200 Connection established" to any request and relays nothing.</summary>
    public static async Task Grants200ButNeverConnects(Socket s, CancellationToken ct)
    {
        var buf = new byte[4096];
        var got = 0;
        while (got < buf.Length && !Encoding.ASCII.GetString(buf, 0, got).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None, ct);
            if (n == 0)
            {
                return;
            }
            got += n;
        }
        await s.SendAsync("HTTP/1.0 200 Connection established\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
        while (await s.ReceiveAsync(buf, SocketFlags.None, ct) > 0)
        {
        }
    }

    /// <summary>A minimal real SOCKS5 proxy (RFC 1928, no auth, CONNECT to 127.0.0.0/8 only) that relays both ways.</summary>
    public static async Task OpenSocks5(Socket s, CancellationToken ct)
    {
        var buf = new byte[4096];
        if (!await ReadExactly(s, buf, 2, ct) || buf[0] != 5 || !await ReadExactly(s, buf.AsMemory(2), buf[1], ct))
        {
            return;
        }
        await s.SendAsync(new byte[] { 5, 0 }, SocketFlags.None, ct);
        if (!await ReadExactly(s, buf, 10, ct) || buf[1] != 1 || buf[3] != 1)
        {
            await s.SendAsync(new byte[] { 5, 7, 0, 1, 0, 0, 0, 0, 0, 0 }, SocketFlags.None, ct);
            return;
        }
        var target = new IPEndPoint(new IPAddress(buf.AsSpan(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(buf.AsSpan(8)));
        if (buf[4] != 127)
        {
            await s.SendAsync(new byte[] { 5, 2, 0, 1, 0, 0, 0, 0, 0, 0 }, SocketFlags.None, ct);
            return;
        }
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await upstream.ConnectAsync(target, ct);
        }
        catch (SocketException)
        {
            await s.SendAsync(new byte[] { 5, 5, 0, 1, 0, 0, 0, 0, 0, 0 }, SocketFlags.None, ct);
            return;
        }
        await s.SendAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, 0, 0 }, SocketFlags.None, ct);
        await Task.WhenAny(Pump(s, upstream, ct), Pump(upstream, s, ct));
    }

    private static async Task Pump(Socket from, Socket to, CancellationToken ct)
    {
        var buf = new byte[4096];
        int n;
        while ((n = await from.ReceiveAsync(buf, SocketFlags.None, ct)) > 0)
        {
            await to.SendAsync(buf.AsMemory(0, n), SocketFlags.None, ct);
        }
    }

    private static async Task<bool> ReadExactly(Socket s, Memory<byte> buf, int count, CancellationToken ct)
    {
        var got = 0;
        while (got < count)
        {
            var n = await s.ReceiveAsync(buf[got..count], SocketFlags.None, ct);
            if (n == 0)
            {
                return false;
            }
            got += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        _stop.Dispose();
    }
}
