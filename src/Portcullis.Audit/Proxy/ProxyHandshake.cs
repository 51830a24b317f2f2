using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Audit.Proxy;

/// <summary>
/// The exact request bytes of each proxy protocol (catalog §5.2), as pure functions so the unit tests can
/// compare them byte for byte with the table.
/// </summary>
public static class ProxyHandshake
{
    /// <summary>libopm: <c>CONNECT IP:PORT HTTP/1.0\r\n\r\n</c>; <see cref="MikroTikExtraLine"/> is sent separately afterwards.</summary>
    public static byte[] HttpConnect(string host, int port) =>
        Encoding.ASCII.GetBytes($"CONNECT {Authority(host, port)} HTTP/1.0\r\n\r\n");

    /// <summary>libopm sends an extra CRLF as a separate write: "extra linefeed required for MikroTik HttpProxy".</summary>
    public static ReadOnlySpan<byte> MikroTikExtraLine => "\r\n"u8;

    /// <summary>An absolute-URI GET (RFC 7230 §5.3.2), with a Host header as nmap's http-open-proxy sends.</summary>
    public static byte[] HttpGet(string host, int port, string path) =>
        Encoding.ASCII.GetBytes($"GET http://{Authority(host, port)}{path} HTTP/1.0\r\nHost: {Authority(host, port)}\r\n\r\n");

    /// <summary>libopm's HTTP POST, byte for byte: a 5-byte body "quit\r\n" plus a trailing CRLF.</summary>
    public static byte[] HttpPost(string host, int port) =>
        Encoding.ASCII.GetBytes($"POST http://{Authority(host, port)}/ HTTP/1.0\r\nContent-type: text/plain\r\nContent-length: 5\r\n\r\nquit\r\n\r\n");

    /// <summary>SOCKS4 CONNECT: <c>04 01 PP PP A B C D 00</c> (empty USERID), port and address big-endian.</summary>
    public static byte[] Socks4(IPAddress address, int port)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("SOCKS4 carries only IPv4 addresses", nameof(address));
        }
        var b = new byte[9];
        b[0] = 0x04;
        b[1] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)port);
        address.TryWriteBytes(b.AsSpan(4), out _);
        b[8] = 0x00;
        return b;
    }

    /// <summary>SOCKS4a: DSTIP 0.0.0.1 means "a host name follows the USERID's NUL" (Ying-Da Lee, SOCKS 4A).</summary>
    public static byte[] Socks4a(string host, int port)
    {
        var name = Encoding.ASCII.GetBytes(host);
        var b = new byte[8 + 1 + name.Length + 1];
        b[0] = 0x04;
        b[1] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)port);
        b[4] = 0; b[5] = 0; b[6] = 0; b[7] = 1;
        b[8] = 0x00; // empty USERID
        name.CopyTo(b, 9);
        b[^1] = 0x00;
        return b;
    }

    /// <summary>SOCKS5 greeting offering only "no authentication" (RFC 1928 §3): <c>05 01 00</c>.</summary>
    public static ReadOnlySpan<byte> Socks5Greeting => [0x05, 0x01, 0x00];

    /// <summary>SOCKS5 CONNECT (RFC 1928 §4): ATYP 01 (IPv4), 04 (IPv6) or 03 (a name).</summary>
    public static byte[] Socks5Connect(string host, int port)
    {
        byte[] addr;
        if (IPAddress.TryParse(host, out var ip))
        {
            var raw = ip.GetAddressBytes();
            addr = [(byte)(raw.Length == 4 ? 0x01 : 0x04), .. raw];
        }
        else
        {
            var name = Encoding.ASCII.GetBytes(host);
            if (name.Length > 255)
            {
                throw new ArgumentException("host name longer than 255 bytes", nameof(host));
            }
            addr = [0x03, (byte)name.Length, .. name];
        }
        var b = new byte[3 + addr.Length + 2];
        b[0] = 0x05;
        b[1] = 0x01;
        b[2] = 0x00;
        addr.CopyTo(b, 3);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(3 + addr.Length), (ushort)port);
        return b;
    }

    /// <summary>WinGate: the target typed at the "WinGate>" prompt as <c>host:port\r\n</c> (libopm, pxytest).</summary>
    public static byte[] Wingate(string host, int port) => Encoding.ASCII.GetBytes($"{host}:{port}\r\n");

    /// <summary>Telnet gateway (TIS tn-gw): <c>telnet host port\r\n</c> (pxytest proxy_test_telnet).</summary>
    public static byte[] TelnetGateway(string host, int port) => Encoding.ASCII.GetBytes($"telnet {host} {port}\r\n");

    /// <summary>HOPM's ROUTER: the Cisco factory password, typed at the "Password:" prompt (libopm, pxytest).</summary>
    public static ReadOnlySpan<byte> CiscoPassword => "cisco\r\n"u8;

    /// <summary>HOPM's DREAMBOX: the receiver's factory login, user then password (libopm).</summary>
    public static ReadOnlySpan<byte> DreamboxUser => "root\r\n"u8;

    public static ReadOnlySpan<byte> DreamboxPassword => "dreambox\r\n"u8;

    /// <summary>DREAMBOX's second way out when the shell has no telnet client: <c>nc host port\r\n</c> (libopm).</summary>
    public static byte[] Netcat(string host, int port) => Encoding.ASCII.GetBytes($"nc {host} {port}\r\n");

    /// <summary>host:port, with IPv6 literals in brackets (RFC 3986 §3.2.2).</summary>
    public static string Authority(string host, int port) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{host}]:{port}"
            : $"{host}:{port}";
}
