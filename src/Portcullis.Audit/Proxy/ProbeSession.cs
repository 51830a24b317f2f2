using System.Net;
using System.Net.Sockets;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// One TCP connection to a suspected proxy, with HOPM's limits (catalog §5.1): at most 4 KB read in all
/// ("some people have fun setting up lots of ports that send endless data"), and a timeout on every step.
/// </summary>
internal sealed class ProbeSession : IDisposable
{
    public const int MaxRead = 4096;

    private readonly Socket _socket;
    private readonly byte[] _buf = new byte[MaxRead];
    private int _got;

    private ProbeSession(Socket socket, ProbeTranscript transcript)
    {
        _socket = socket;
        Transcript = transcript;
    }

    public ProbeTranscript Transcript { get; }

    /// <summary>Everything read so far (the 4 KB cap included).</summary>
    public ReadOnlySpan<byte> Received => _buf.AsSpan(0, _got);

    public int ReceivedCount => _got;

    public static async Task<(ProbeSession? Session, string? Error)> ConnectAsync(IPEndPoint proxy, TimeSpan timeout, ProbeTranscript transcript, CancellationToken ct)
    {
        var s = new Socket(proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(proxy, cts.Token).ConfigureAwait(false);
            transcript.Note($"connected {s.LocalEndPoint} -> {proxy}");
            return (new ProbeSession(s, transcript), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            s.Dispose();
            transcript.Note($"connect to {proxy}: no answer within {timeout.TotalSeconds:0.#} s");
            return (null, "connect timed out");
        }
        catch (SocketException e)
        {
            s.Dispose();
            transcript.Note($"connect to {proxy}: {e.SocketErrorCode}");
            return (null, e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.SocketErrorCode.ToString());
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken ct)
    {
        Transcript.Sent(data.Span, binary);
        await _socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
    }

    /// <summary>Why a read loop stopped.</summary>
    public enum Stop { Done, Eof, Timeout, Cap, Reset }

    /// <summary>
    /// Reads until <paramref name="done"/> says the bytes from <paramref name="from"/> on are enough, the peer
    /// closes, the cap is reached, or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<Stop> ReadUntilAsync(int from, Func<ReadOnlyMemory<byte>, bool> done, TimeSpan timeout, bool binary, CancellationToken ct)
    {
        var before = _got;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var stop = Stop.Done;
        try
        {
            while (!done(_buf.AsMemory(from, _got - from)))
            {
                if (_got >= _buf.Length)
                {
                    stop = Stop.Cap;
                    break;
                }
                var n = await _socket.ReceiveAsync(_buf.AsMemory(_got), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    stop = Stop.Eof;
                    break;
                }
                _got += n;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            stop = Stop.Timeout;
        }
        catch (SocketException)
        {
            stop = Stop.Reset;
        }
        if (_got > before)
        {
            Transcript.Received(_buf.AsSpan(before, _got - before), binary);
        }
        if (stop != Stop.Done)
        {
            Transcript.Note(stop switch
            {
                Stop.Eof => "(the proxy closed the connection)",
                Stop.Timeout => $"(nothing more within {timeout.TotalSeconds:0.#} s)",
                Stop.Cap => $"(read cap of {MaxRead} bytes reached)",
                _ => "(connection reset)",
            });
        }
        return stop;
    }

    /// <summary>Best effort: end the SMTP dialogue politely after a proof.</summary>
    public async Task TryQuitAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _socket.SendAsync("QUIT\r\n"u8.ToArray(), SocketFlags.None, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the tunnel is already gone
        }
    }

    public void Dispose() => _socket.Dispose();
}
