using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// One TCP connection to a suspected proxy, optionally inside TLS (libopm's HTTPS types: "TLS handshake
/// to the proxy port, then inside TLS CONNECT", catalog §5.2), with HOPM's limits (catalog §5.1): at most
/// 4 KB read in all ("some people have fun setting up lots of ports that send endless data"), and a
/// timeout on every step.
/// </summary>
internal sealed class ProbeSession : IDisposable
{
    public const int MaxRead = 4096;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly byte[] _buf = new byte[MaxRead];
    private int _got;
    private long _firstSentAt;

    private ProbeSession(Socket socket, Stream stream, ProbeTranscript transcript)
    {
        _socket = socket;
        _stream = stream;
        Transcript = transcript;
    }

    public ProbeTranscript Transcript { get; }

    /// <summary>Everything read so far (the 4 KB cap included).</summary>
    public ReadOnlySpan<byte> Received => _buf.AsSpan(0, _got);

    public int ReceivedCount => _got;

    /// <summary>
    /// How long the port took to send its first bytes after our first request (null: it sent none after
    /// one): how fast this server answers, whatever it said.
    /// </summary>
    public TimeSpan? FirstReplyAfter { get; private set; }

    /// <summary>How opening the session failed: the TCP connect, or (for the HTTPS types) the TLS handshake.</summary>
    public enum OpenFailure { None, Connect, TlsSilent, TlsRefused }

    /// <param name="timeout">for the TCP connection</param>
    /// <param name="handshakeTimeout">for the TLS handshake (the port's reply to our ClientHello), when <paramref name="tls"/></param>
    public static async Task<(ProbeSession? Session, string? Error, OpenFailure Failure)> ConnectAsync(IPEndPoint proxy, bool tls, TimeSpan timeout, TimeSpan handshakeTimeout, ProbeTranscript transcript, CancellationToken ct)
    {
        var s = new Socket(proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(proxy, cts.Token).ConfigureAwait(false);
            transcript.Note($"connected {s.LocalEndPoint} -> {proxy}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            s.Dispose();
            transcript.Note($"connect to {proxy}: no answer within {timeout.TotalSeconds:0.#} s");
            return (null, "connect timed out", OpenFailure.Connect);
        }
        catch (SocketException e)
        {
            s.Dispose();
            transcript.Note($"connect to {proxy}: {e.SocketErrorCode}");
            return (null, e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.SocketErrorCode.ToString(), OpenFailure.Connect);
        }
        if (!tls)
        {
            return (new ProbeSession(s, new NetworkStream(s, ownsSocket: false), transcript), null, OpenFailure.None);
        }
        return await StartTlsAsync(s, proxy, handshakeTimeout, transcript, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The TLS handshake to the proxy port. The proxy's certificate is not judged: an open proxy is open
    /// whatever certificate it shows (a self-signed one is the common case), so it is only recorded.
    /// </summary>
    private static async Task<(ProbeSession?, string?, OpenFailure)> StartTlsAsync(Socket s, IPEndPoint proxy, TimeSpan timeout, ProbeTranscript transcript, CancellationToken ct)
    {
        var tls = new SslStream(new NetworkStream(s, ownsSocket: false), leaveInnerStreamOpen: false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                // No SNI: the proxy is addressed by IP; a name would only be a guess.
                TargetHost = "",
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, cts.Token).ConfigureAwait(false);
            transcript.Note($"TLS {tls.SslProtocol} {tls.NegotiatedCipherSuite}, proxy certificate \"{tls.RemoteCertificate?.Subject}\" (not verified: any certificate will do for a proxy test)");
            return (new ProbeSession(s, tls, transcript), null, OpenFailure.None);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            s.Dispose();
            transcript.Note($"TLS handshake: no answer within {timeout.TotalSeconds:0.#} s");
            return (null, "no answer to a TLS handshake", OpenFailure.TlsSilent);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            s.Dispose();
            var why = e.InnerException?.Message ?? e.Message;
            transcript.Note("TLS handshake failed: " + why);
            return (null, "not a TLS port (the TLS handshake failed: " + why + ")", OpenFailure.TlsRefused);
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken ct)
    {
        Transcript.Sent(data.Span, binary);
        if (_firstSentAt == 0)
        {
            _firstSentAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        await _stream.WriteAsync(data, ct).ConfigureAwait(false);
        await _stream.FlushAsync(ct).ConfigureAwait(false);
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
                var n = await _stream.ReadAsync(_buf.AsMemory(_got), cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    stop = Stop.Eof;
                    break;
                }
                _got += n;
                if (FirstReplyAfter is null && _firstSentAt != 0)
                {
                    FirstReplyAfter = System.Diagnostics.Stopwatch.GetElapsedTime(_firstSentAt);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            stop = Stop.Timeout;
        }
        catch (Exception e) when (e is SocketException or IOException)
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
            await _stream.WriteAsync("QUIT\r\n"u8.ToArray(), cts.Token).ConfigureAwait(false);
            await _stream.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the tunnel is already gone
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
