using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Portcullis.Smtp;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A raw SMTP client for dialogue tests: sends exactly the bytes it is given (bare CR, LF, NUL, several
/// commands in one write) and reads replies as the server sent them.
/// </summary>
public sealed class SmtpWire : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private SmtpReplyReader _reader;

    private SmtpWire(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new SmtpReplyReader(_stream);
    }

    public static async Task<SmtpWire> ConnectAsync(string host, int port, bool readGreeting = true)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(host, port);
        var w = new SmtpWire(tcp);
        if (readGreeting)
        {
            var g = await w.ReadAsync();
            Assert.Equal(220, g.Code);
        }
        return w;
    }

    public async Task<SmtpReply> ReadAsync(int timeoutMs = 10_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        return await _reader.ReadReplyAsync(cts.Token) ?? throw new IOException("server closed the connection");
    }

    /// <summary>Reads a reply if one comes within the time; null when nothing came (or the connection closed).</summary>
    public async Task<SmtpReply?> TryReadAsync(int timeoutMs)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        try
        {
            return await _reader.ReadReplyAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True when the server has sent something not read yet, or closed the connection.</summary>
    public bool ServerHasSpoken => _tcp.Available > 0 || _tcp.Client.Poll(0, SelectMode.SelectRead);

    public async Task SendRawAsync(string bytes)
    {
        await _stream.WriteAsync(Encoding.Latin1.GetBytes(bytes));
        await _stream.FlushAsync();
    }

    /// <summary>Sends one command line (CRLF added) and returns the reply.</summary>
    public async Task<SmtpReply> CommandAsync(string line, int timeoutMs = 10_000)
    {
        await SendRawAsync(line + "\r\n");
        return await ReadAsync(timeoutMs);
    }

    /// <summary>EHLO, MAIL, RCPT..., DATA, content, final dot. Returns the reply to the final dot.</summary>
    public async Task<SmtpReply> SendMessageAsync(string from, IEnumerable<string> to, string content)
    {
        Assert.Equal(250, (await CommandAsync($"MAIL FROM:<{from}>")).Code);
        foreach (var t in to)
        {
            Assert.Equal(250, (await CommandAsync($"RCPT TO:<{t}>")).Code);
        }
        Assert.Equal(354, (await CommandAsync("DATA")).Code);
        await SendRawAsync(content + ".\r\n");
        return await ReadAsync();
    }

    /// <summary>The certificate the server presented in the last TLS handshake (none verified: tests read it).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; private set; }

    public async Task StartTlsHandshakeAsync(string host)
    {
        var ssl = new SslStream(_tcp.GetStream(), leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(host);
        ServerCertificate = ssl.RemoteCertificate is { } c ? new System.Security.Cryptography.X509Certificates.X509Certificate2(c) : null;
        _stream = ssl;
        _reader = new SmtpReplyReader(ssl);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync();
        }
        catch (IOException)
        {
        }
        _tcp.Dispose();
    }
}
