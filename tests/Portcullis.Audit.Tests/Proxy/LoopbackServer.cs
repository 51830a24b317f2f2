using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// A tiny TCP server on a 127.0.3.x address for the tests: each accepted connection runs the handler.
/// The handlers below are a real (relaying) SOCKS5 proxy and the "200 but never connects" trap.
/// The end-to-end tests compile this same file (linked from tests/EndToEnd) for their scan targets.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackServer(string address, Func<Socket, CancellationToken, Task> handler, int port = 0)
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

    /// <summary>Answers any request line with "HTTP/1.0 200 Connection established" and then relays nothing.</summary>
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

    /// <summary>Answers whatever arrives, even a bare "host:port" line, with "HTTP/1.0 200 Connection established", then holds the connection and relays nothing.</summary>
    public static async Task Answers200ToAnything(Socket s, CancellationToken ct)
    {
        var buf = new byte[4096];
        if (await s.ReceiveAsync(buf, SocketFlags.None, ct) == 0)
        {
            return;
        }
        await s.SendAsync("HTTP/1.0 200 Connection established\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
        while (await s.ReceiveAsync(buf, SocketFlags.None, ct) > 0)
        {
        }
    }

    /// <summary>A minimal but real SOCKS5 proxy (RFC 1928, no auth, CONNECT to IPv4 loopback only) that relays both ways.</summary>
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
        if (!target.Address.ToString().StartsWith("127.", StringComparison.Ordinal))
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
