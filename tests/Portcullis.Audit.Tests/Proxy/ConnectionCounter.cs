using System.Net.Sockets;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// Counts the connections a client holds open at once to one host: every <see cref="LoopbackServer"/> of
/// the host wraps its handler with <see cref="Wrap"/>, so several ports share one count. A connection that
/// is closed or reset within <see cref="Settle"/> without sending anything is a port-discovery touch (TCP
/// connect, then reset at once), not an audit connection, and is not counted.
/// The end-to-end tests compile this same file (linked from tests/EndToEnd).
/// </summary>
internal sealed class ConnectionCounter
{
    private int _live;
    private int _max;
    private int _counted;

    public static TimeSpan Settle { get; } = TimeSpan.FromMilliseconds(40);

    /// <summary>The most audit connections that were open at the same moment.</summary>
    public int Max => Volatile.Read(ref _max);

    /// <summary>Audit connections seen in all.</summary>
    public int Counted => Volatile.Read(ref _counted);

    /// <summary>Counts the connection while <paramref name="inner"/> runs (it ends when the handler returns).</summary>
    public Func<Socket, CancellationToken, Task> Wrap(Func<Socket, CancellationToken, Task> inner) =>
        Wrap((s, leave, ct) => inner(s, ct));

    /// <summary>
    /// Counts the connection until the handler calls its "leave" action (or returns). A handler calls it just
    /// before its last words, so the client, which only moves on after reading them, cannot be seen to overlap.
    /// </summary>
    public Func<Socket, CancellationToken, Task> Wrap(Func<Socket, Action, CancellationToken, Task> inner) => async (s, ct) =>
    {
        if (await ClosedWithinAsync(s, Settle, ct))
        {
            return;
        }
        var now = Interlocked.Increment(ref _live);
        Interlocked.Increment(ref _counted);
        int seen;
        while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
        {
        }
        var left = 0;
        void Leave()
        {
            if (Interlocked.Exchange(ref left, 1) == 0)
            {
                Interlocked.Decrement(ref _live);
            }
        }
        try
        {
            await inner(s, Leave, ct);
        }
        finally
        {
            Leave();
        }
    };

    /// <summary>Closed (FIN) or reset within the wait, with nothing sent: a discovery touch. Data waiting or silence = a live client.</summary>
    private static async Task<bool> ClosedWithinAsync(Socket s, TimeSpan wait, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(wait);
        try
        {
            return await s.ReceiveAsync(new byte[1], SocketFlags.Peek, cts.Token) == 0;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>A slow closed proxy: after <paramref name="delay"/> it answers 403 to anything and closes.</summary>
    public static Func<Socket, Action, CancellationToken, Task> Slow403(TimeSpan delay) => async (s, leave, ct) =>
    {
        // The delay is spent reading what the client sends: a client that closes meanwhile holds nothing open any
        // more and stops counting at once (a timer alone kept counting it to the end of the delay, and a loaded
        // machine once saw five "at once" that way with four allowed).
        var clientLeft = await ClientLeftWithinAsync(s, delay, ct);
        leave();
        if (!clientLeft)
        {
            await s.SendAsync("HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
        }
    };

    /// <summary>Reads and drops what arrives for up to <paramref name="wait"/>; true when the client closed (or reset) in that time.</summary>
    private static async Task<bool> ClientLeftWithinAsync(Socket s, TimeSpan wait, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(wait);
        var buffer = new byte[4096];
        try
        {
            while (await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
