using System.Globalization;
using System.Text;

namespace Portcullis.Audit.Proxy;

/// <summary>An HTTP response head: status code, status line, and where the body starts.</summary>
public readonly record struct HttpResponseHead(int Code, string StatusLine, int BodyOffset);

/// <summary>SOCKS4 reply (8 bytes): VN, CD, DSTPORT, DSTIP. CD 0x5A granted, 0x5B rejected, 0x5C/0x5D identd.</summary>
public readonly record struct Socks4Reply(byte Version, byte Code)
{
    public bool Granted => Code == 0x5A;

    public string Meaning => Code switch
    {
        0x5A => "request granted",
        0x5B => "request rejected or failed",
        0x5C => "rejected: cannot reach the client's identd",
        0x5D => "rejected: identd user id mismatch",
        _ => "unknown reply code",
    };
}

/// <summary>Decoders for proxy replies, pure so they can be tested on recorded bytes.</summary>
public static class ProxyReplies
{
    /// <summary>
    /// Parses "HTTP/x.y NNN text\r\n...\r\n\r\n". Returns false while the head is incomplete or when the
    /// bytes are not an HTTP response at all (<paramref name="notHttp"/> tells which).
    /// </summary>
    public static bool TryParseHttpHead(ReadOnlySpan<byte> data, out HttpResponseHead head, out bool notHttp)
    {
        head = default;
        notHttp = false;
        var prefix = "HTTP/"u8;
        var n = Math.Min(prefix.Length, data.Length);
        if (!data[..n].SequenceEqual(prefix[..n]))
        {
            notHttp = data.Length > 0;
            return false;
        }
        var lineEnd = data.IndexOf((byte)'\n');
        if (lineEnd < 0)
        {
            return false;
        }
        var statusLine = Encoding.Latin1.GetString(data[..lineEnd]).TrimEnd('\r');
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || parts[1].Length != 3 ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            notHttp = true;
            return false;
        }
        var end = data.IndexOf("\r\n\r\n"u8);
        var bodyOffset = end >= 0 ? end + 4 : -1;
        if (bodyOffset < 0)
        {
            var lf = data.IndexOf("\n\n"u8);
            bodyOffset = lf >= 0 ? lf + 2 : -1;
        }
        if (bodyOffset < 0)
        {
            return false;
        }
        head = new HttpResponseHead(code, statusLine, bodyOffset);
        return true;
    }

    /// <summary>A SOCKS4 reply needs 8 bytes; VN is 0 (RFC-less SOCKS4 spec), some servers send 4.</summary>
    public static bool TryParseSocks4(ReadOnlySpan<byte> data, out Socks4Reply reply, out bool notSocks4)
    {
        reply = default;
        notSocks4 = data.Length >= 1 && data[0] is not (0x00 or 0x04);
        if (notSocks4 || data.Length < 8)
        {
            if (!notSocks4 && data.Length >= 2 && data[1] is < 0x5A or > 0x5D)
            {
                notSocks4 = true;
            }
            return false;
        }
        if (data[1] is < 0x5A or > 0x5D)
        {
            notSocks4 = true;
            return false;
        }
        reply = new Socks4Reply(data[0], data[1]);
        return true;
    }

    /// <summary>SOCKS5 method selection (RFC 1928 §3): 05 00 none, 05 02 username/password, 05 FF no acceptable method.</summary>
    public static bool TryParseSocks5Method(ReadOnlySpan<byte> data, out byte method, out bool notSocks5)
    {
        method = 0;
        notSocks5 = data.Length >= 1 && data[0] != 0x05;
        if (notSocks5 || data.Length < 2)
        {
            return false;
        }
        method = data[1];
        return true;
    }

    /// <summary>
    /// SOCKS5 reply (RFC 1928 §6): VER REP RSV ATYP BND.ADDR BND.PORT; its length depends on ATYP.
    /// Returns false while incomplete; <paramref name="length"/> is the reply's size once known.
    /// </summary>
    public static bool TryParseSocks5Reply(ReadOnlySpan<byte> data, out byte rep, out int length, out bool notSocks5)
    {
        rep = 0;
        length = 0;
        notSocks5 = data.Length >= 1 && data[0] != 0x05;
        if (notSocks5 || data.Length < 2)
        {
            return false;
        }
        rep = data[1];
        if (rep != 0x00)
        {
            // A failure reply may be cut short by the server closing; the REP byte is what matters.
            length = Math.Min(data.Length, 10);
            return true;
        }
        if (data.Length < 5)
        {
            return false;
        }
        length = data[3] switch
        {
            0x01 => 4 + 4 + 2,
            0x04 => 4 + 16 + 2,
            0x03 => 4 + 1 + data[4] + 2,
            _ => -1,
        };
        if (length < 0)
        {
            notSocks5 = true;
            return false;
        }
        return data.Length >= length;
    }

    public static string Socks5ReplyMeaning(byte rep) => rep switch
    {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned reply code",
    };

    public static string Socks5MethodMeaning(byte method) => method switch
    {
        0x00 => "no authentication required",
        0x01 => "GSSAPI required",
        0x02 => "username/password required (RFC 1929)",
        0xFF => "no acceptable methods (authentication required)",
        _ => "method " + method.ToString("X2", CultureInfo.InvariantCulture),
    };
}
