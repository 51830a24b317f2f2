using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp;

/// <summary>Timeouts and caps of the raw prober.</summary>
public sealed record ProbeOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long one step (one reply) may take.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Catalog §6.2: cap reads at 4 KB (HOPM max_read) so a hostile server cannot tie the auditor up.</summary>
    public int MaxReplyBytes { get; init; } = 4096;
    /// <summary>Local address to connect from (the vantage point), when set.</summary>
    public IPAddress? LocalAddress { get; init; }
}

/// <summary>
/// A raw SMTP client for auditing: it sends exactly the bytes it is given (bare LF, NUL, several commands in
/// one write) and reports every reply exactly, recording both directions in a <see cref="Transcript"/>.
/// Unlike a mail library it never repairs or hides what the server does. Every failure to get a reply
/// throws <see cref="ProbeLostException"/>.
/// </summary>
public sealed class SmtpProbe : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly ProbeOptions _options;
    private Stream _stream;
    private SmtpReplyReader _reader;

    private SmtpProbe(TcpClient tcp, Stream stream, SmtpEndpoint endpoint, ProbeOptions options, Transcript transcript)
    {
        _tcp = tcp;
        _stream = stream;
        _options = options;
        Endpoint = endpoint;
        Transcript = transcript;
        _reader = new SmtpReplyReader(new PatientStream(stream), options.MaxReplyBytes);
    }

    public SmtpEndpoint Endpoint { get; }
    public Transcript Transcript { get; }
    public SmtpReply Greeting { get; private set; } = null!;
    public bool IsTls { get; private set; }
    public X509Certificate2? Certificate { get; private set; }
    public SslPolicyErrors CertificateErrors { get; private set; }
    public string? TlsProtocol { get; private set; }
    public IPEndPoint? LocalEndPoint => _tcp.Client.LocalEndPoint as IPEndPoint;
    /// <summary>Time the last reply took to arrive (the RCPT enumeration check watches for a server slowing down).</summary>
    public TimeSpan LastReplyTime { get; private set; }

    /// <summary>Connects, starts TLS at once for implicit-TLS ports, and reads the greeting.</summary>
    public static async Task<SmtpProbe> ConnectAsync(SmtpEndpoint endpoint, ProbeOptions options, Transcript transcript, CancellationToken ct)
    {
        var tcp = new TcpClient(endpoint.Address.AddressFamily) { NoDelay = true };
        try
        {
            if (options.LocalAddress is not null)
            {
                tcp.Client.Bind(new IPEndPoint(options.LocalAddress, 0));
            }
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                cts.CancelAfter(options.ConnectTimeout);
                try
                {
                    await tcp.ConnectAsync(endpoint.Address, endpoint.Port, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new ProbeLostException(ProbeLoss.Timeout, $"connect to {endpoint.Display} timed out");
                }
                catch (SocketException e)
                {
                    throw new ProbeLostException(ProbeLoss.Closed, $"connect to {endpoint.Display}: {e.Message}", e);
                }
            }
            transcript.Note($"connected to {endpoint.Display}");
            var probe = new SmtpProbe(tcp, tcp.GetStream(), endpoint, options, transcript);
            if (endpoint.ImplicitTls)
            {
                await probe.HandshakeAsync(ct).ConfigureAwait(false);
            }
            probe.Greeting = await probe.TryReadReplyAsync(options.StepTimeout, ct).ConfigureAwait(false)
                ?? throw new ProbeLostException(endpoint.ImplicitTls ? ProbeLoss.Timeout : ProbeLoss.NoGreeting, $"no greeting within {options.StepTimeout.TotalSeconds:0.#} s");
            return probe;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command line (CRLF appended) and reads its reply.</summary>
    public async Task<SmtpReply> CommandAsync(string line, CancellationToken ct)
    {
        await SendRawAsync(line + "\r\n", ct).ConfigureAwait(false);
        return await ReadReplyAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Sends the given characters as Latin-1 bytes in one write, exactly as given.</summary>
    public async Task SendRawAsync(string raw, CancellationToken ct)
    {
        Transcript.Client(raw);
        try
        {
            using var cts = Step(ct);
            await _stream.WriteAsync(Encoding.Latin1.GetBytes(raw), cts.Token).ConfigureAwait(false);
            await _stream.FlushAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            Transcript.Note("connection lost while sending");
            throw new ProbeLostException(ProbeLoss.Closed, "connection lost while sending: " + e.Message, e);
        }
    }

    /// <summary>Reads one reply within the step timeout.</summary>
    public async Task<SmtpReply> ReadReplyAsync(CancellationToken ct) =>
        await TryReadReplyAsync(_options.StepTimeout, ct).ConfigureAwait(false)
        ?? throw new ProbeLostException(ProbeLoss.Timeout, $"no reply within {_options.StepTimeout.TotalSeconds:0.#} s");

    /// <summary>Waits up to <paramref name="wait"/> for a reply; null when none came (the connection stays usable).</summary>
    public async Task<SmtpReply?> TryReadReplyAsync(TimeSpan wait, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(wait);
        var sw = Stopwatch.StartNew();
        SmtpReply? reply;
        try
        {
            reply = await _reader.ReadReplyAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Transcript.Note($"(no reply within {wait.TotalSeconds:0.#} s)");
            return null;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
        {
            Transcript.Note("connection lost: " + e.Message);
            throw new ProbeLostException(e.Message.Contains("longer than", StringComparison.Ordinal) ? ProbeLoss.Garbage : ProbeLoss.Closed, e.Message, e);
        }
        catch (InvalidDataException e)
        {
            Transcript.Note(e.Message);
            throw new ProbeLostException(ProbeLoss.Garbage, e.Message, e);
        }
        LastReplyTime = sw.Elapsed;
        if (reply is null)
        {
            Transcript.Note("connection closed by server");
            throw new ProbeLostException(ProbeLoss.Closed, "connection closed by server");
        }
        reply = reply with { Lines = reply.Lines.Select(Utf8OrLatin1).ToList() };
        foreach (var line in reply.ToWire().Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Transcript.Server(line);
        }
        return reply;
    }

    /// <summary>True when the server sent bytes nobody asked for yet (e.g. a reply to a command injected after STARTTLS).</summary>
    public bool HasUnreadBytes => _reader.HasBufferedBytes;

    /// <summary>
    /// STARTTLS (RFC 3207) after the caller has seen the 220: discard anything buffered after the 220 (catalog
    /// §3.2: a client MUST NOT read injected plaintext as a post-TLS reply), then do the handshake.
    /// Returns the number of plaintext bytes that were discarded.
    /// </summary>
    public async Task<int> UpgradeToTlsAsync(CancellationToken ct)
    {
        var discarded = _reader.DiscardBuffered();
        if (discarded > 0)
        {
            Transcript.Note($"discarded {discarded} plaintext bytes received after the 220 to STARTTLS");
        }
        await HandshakeAsync(ct).ConfigureAwait(false);
        return discarded;
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        // The audit looks at certificates and reports problems as warnings; it must still talk to a server
        // with a self-signed certificate, so it accepts every certificate and records the errors.
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, (_, cert, _, errors) =>
        {
            CertificateErrors = errors;
            if (cert is not null)
            {
                Certificate = new X509Certificate2(cert);
            }
            return true;
        });
        try
        {
            using var cts = Step(ct);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = Endpoint.TlsServerName ?? (IPAddress.TryParse(Endpoint.Name, out _) ? Endpoint.Address.ToString() : Endpoint.Name),
                EnabledSslProtocols = SslProtocols.None,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            Transcript.Note("TLS handshake failed: " + e.Message);
            throw new ProbeLostException(ProbeLoss.Closed, "TLS handshake failed: " + e.Message, e);
        }
        _stream = ssl;
        _reader = new SmtpReplyReader(new PatientStream(ssl), _options.MaxReplyBytes);
        IsTls = true;
        TlsProtocol = ssl.SslProtocol.ToString();
        Transcript.Note($"TLS established ({TlsProtocol}, {ssl.NegotiatedCipherSuite})");
    }

    /// <summary>Says QUIT politely when the connection still works; never throws.</summary>
    public async Task QuitAsync(CancellationToken ct)
    {
        try
        {
            await SendRawAsync("QUIT\r\n", ct).ConfigureAwait(false);
            await TryReadReplyAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
        catch (ProbeLostException)
        {
        }
    }

    /// <summary>The reader decodes bytes as Latin-1 (exact); show a reply that is valid UTF-8 (RFC 6531 servers) as such.</summary>
    private static string Utf8OrLatin1(string latin1)
    {
        if (latin1.All(c => c < 0x80))
        {
            return latin1;
        }
        var bytes = Encoding.Latin1.GetBytes(latin1);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return latin1;
        }
    }

    private CancellationTokenSource Step(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_options.StepTimeout);
        return cts;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        _tcp.Dispose();
    }
}
