using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Audit;

/// <summary>
/// Deliberately broken SMTP servers that no Debian package offers, for the two behaviours issue 4 requires
/// the auditor to judge: a sink that answers 250 to every recipient and throws the mail away (nmap calls it
/// an open relay), and a lax receiver that ends DATA at a bare "\n.\n" (SMTP smuggling, catalog §2.2).
/// Also one that cuts DATA lines over 1000 octets (catalog §4 "Long lines"). Real sockets on 127.0.2.x;
/// nothing is delivered anywhere.
/// </summary>
public sealed class SmtpFakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Func<string, int> _endOfData;
    private readonly X509Certificate2? _tlsCertificate;

    /// <param name="endOfData">Given the DATA bytes received so far (Latin-1), returns the index just past the end-of-data marker, or -1.</param>
    /// <param name="tlsCertificate">When set, STARTTLS is offered and plaintext pipelined after it is KEPT and run inside TLS (CVE-2011-0411).</param>
    private SmtpFakeServer(IPEndPoint ep, Func<string, int> endOfData, X509Certificate2? tlsCertificate = null)
    {
        _endOfData = endOfData;
        _tlsCertificate = tlsCertificate;
        _listener = new TcpListener(ep);
        _listener.Start();
        _loop = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;
    public string Target => $"{EndPoint.Address}:{EndPoint.Port}";
    public int MessagesTaken { get; private set; }

    /// <summary>Answers 250 to everything and drops every message: an "accept-then-drop" sink.</summary>
    public static SmtpFakeServer AcceptAllAndDrop(IPEndPoint ep) => new(ep, StrictEnd);

    /// <summary>Takes a bare "\n.\n" as end of data, as vulnerable receivers did (CVE-2023-51764 class).</summary>
    public static SmtpFakeServer LaxEndOfData(IPEndPoint ep) => new(ep, data =>
    {
        var lax = data.IndexOf("\n.\n", StringComparison.Ordinal);
        var strict = StrictEnd(data);
        return lax < 0 ? strict : strict < 0 ? lax + 3 : Math.Min(lax + 3, strict);
    });

    /// <summary>
    /// Reads DATA in lines of at most 1000 octets (998 and CRLF) and carries the rest of a longer line over as
    /// a line of its own, the silent splitting catalog §4 "Long lines" forbids: a remainder of "." ends the message.
    /// </summary>
    public static SmtpFakeServer SplitsLongLines(IPEndPoint ep) => new(ep, data =>
    {
        for (var pos = 0; ;)
        {
            var crlf = data.IndexOf("\r\n", pos, StringComparison.Ordinal);
            if (crlf < 0)
            {
                return -1;
            }
            var line = data[pos..crlf];
            if (pos > 0 && (line == "." || (line.Length > 998 && line[998..] == ".")))
            {
                return crlf + 2;
            }
            pos = crlf + 2;
        }
    });

    /// <summary>Offers STARTTLS but keeps the plaintext buffered after it and runs it inside TLS, as servers vulnerable to CVE-2011-0411 did.</summary>
    public static SmtpFakeServer StartTlsInjectable(IPEndPoint ep)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=fake.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return new(ep, StrictEnd, X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null));
    }

    private static int StrictEnd(string data)
    {
        var i = data.IndexOf("\r\n.\r\n", StringComparison.Ordinal);
        return i < 0 ? -1 : i + 5;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient c;
            try
            {
                c = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => SessionAsync(c));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        Stream s = client.GetStream();
        var pending = new StringBuilder();
        var buf = new byte[8192];
        var inData = false;
        async Task Say(string line) => await s.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _stop.Token);
        try
        {
            await Say("220 fake.test ESMTP fake");
            while (true)
            {
                var n = await s.ReadAsync(buf, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                pending.Append(Encoding.Latin1.GetString(buf, 0, n));
                while (true)
                {
                    var text = pending.ToString();
                    if (inData)
                    {
                        var end = _endOfData("\r\n" + text);
                        if (end < 0)
                        {
                            break;
                        }
                        pending.Remove(0, Math.Max(0, end - 2));
                        inData = false;
                        MessagesTaken++;
                        await Say("250 2.0.0 Ok: queued (and dropped)");
                        continue;
                    }
                    var nl = text.IndexOf('\n', StringComparison.Ordinal);
                    if (nl < 0)
                    {
                        break;
                    }
                    var line = text[..nl].TrimEnd('\r');
                    pending.Remove(0, nl + 1);
                    var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                    switch (verb)
                    {
                        case "EHLO":
                            await Say(_tlsCertificate is not null && s is not SslStream
                                ? "250-fake.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME"
                                : "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME");
                            break;
                        case "STARTTLS" when _tlsCertificate is not null && s is not SslStream:
                            await Say("220 2.0.0 go ahead");
                            var ssl = new SslStream(s);
                            await ssl.AuthenticateAsServerAsync(_tlsCertificate);
                            s = ssl;
                            // The flaw: "pending" still holds what came after STARTTLS in clear, and it runs now.
                            break;
                        case "DATA":
                            inData = true;
                            await Say("354 go ahead");
                            break;
                        case "QUIT":
                            await Say("221 bye");
                            return;
                        case "VRFY":
                            await Say("252 2.0.0 cannot verify");
                            break;
                        case "EXPN":
                            await Say("502 5.5.1 no");
                            break;
                        default:
                            await Say(line.Contains('\0') ? "501 5.5.2 NUL" : "250 2.0.0 Ok");
                            break;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
        _tlsCertificate?.Dispose();
    }
}
