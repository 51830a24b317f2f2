using System.Net.Sockets;
using System.Text;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Handlers for the small servers the scan tests start on their own loopback block (127.0.3.64/27) with
/// <see cref="Portcullis.Audit.Tests.Proxy.LoopbackServer"/> (which also brings the relaying SOCKS5 proxy and
/// the "200 Connection established" trap): SMTP servers that accept or refuse a foreign RCPT, and a closed
/// HTTP proxy (403).
/// </summary>
public static class ProxyPeersLocal
{
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
}
