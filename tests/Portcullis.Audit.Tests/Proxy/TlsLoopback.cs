using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Audit.Tests.Proxy;

/// <summary>
/// Handlers for <see cref="LoopbackServer"/> that speak TLS with a fresh self-signed certificate: a real
/// relaying HTTP CONNECT proxy inside TLS (what Squid's https_port does) and the "200 but never connects"
/// trap inside TLS.
/// </summary>
internal static class TlsLoopback
{
    private static readonly Lazy<X509Certificate2> Certificate = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=portcullis-test-proxy", key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // A PKCS#12 round trip gives a key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    });

    private static async Task<SslStream> AcceptTlsAsync(Socket s, CancellationToken ct)
    {
        var tls = new SslStream(new NetworkStream(s, ownsSocket: false));
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = Certificate.Value }, ct);
        return tls;
    }

    private static async Task<string?> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        var buf = new byte[4096];
        var got = 0;
        while (got < buf.Length)
        {
            var n = await stream.ReadAsync(buf.AsMemory(got), ct);
            if (n == 0)
            {
                return null;
            }
            got += n;
            var text = Encoding.ASCII.GetString(buf, 0, got);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return text;
            }
        }
        return null;
    }

    /// <summary>An open HTTPS proxy: CONNECT host:port (loopback only) inside TLS, 200, then relays both ways.</summary>
    public static async Task OpenHttpsConnect(Socket s, CancellationToken ct)
    {
        await using var tls = await AcceptTlsAsync(s, ct);
        var head = await ReadHeadAsync(tls, ct);
        var words = head?.Split(' ', 3);
        if (words is not ["CONNECT", var authority, _] || !authority.StartsWith("127.", StringComparison.Ordinal))
        {
            await tls.WriteAsync("HTTP/1.0 403 Forbidden\r\n\r\n"u8.ToArray(), ct);
            return;
        }
        var colon = authority.LastIndexOf(':');
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(authority[..colon], int.Parse(authority[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture), ct);
        await tls.WriteAsync("HTTP/1.0 200 Connection established\r\n\r\n"u8.ToArray(), ct);
        var up = upstream.GetStream();
        await Task.WhenAny(up.CopyToAsync(tls, ct), tls.CopyToAsync(up, ct));
    }

    /// <summary>Inside TLS, answers any request with "HTTP/1.0 200 Connection established" and relays nothing.</summary>
    public static async Task Grants200ButNeverConnects(Socket s, CancellationToken ct)
    {
        await using var tls = await AcceptTlsAsync(s, ct);
        if (await ReadHeadAsync(tls, ct) is null)
        {
            return;
        }
        await tls.WriteAsync("HTTP/1.0 200 Connection established\r\n\r\n"u8.ToArray(), ct);
        var buf = new byte[1024];
        while (await tls.ReadAsync(buf, ct) > 0)
        {
        }
    }
}
