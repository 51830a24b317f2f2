using System.Net;
using System.Net.Sockets;

namespace Portcullis.Audit.Smtp;

/// <summary>Where to connect: the name the user typed (for reports and TLS), the address, the port, and whether TLS starts at once (port 465, RFC 8314).</summary>
public sealed record SmtpEndpoint(string Name, IPAddress Address, int Port, bool ImplicitTls)
{
    /// <summary>The name to ask for in TLS (SNI) and check the certificate against: the name typed or, for an address, the greeting's host name.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>The address as an SMTP address literal (RFC 5321 §4.1.3): [192.0.2.1] or [IPv6:2001:db8::1].</summary>
    public string AddressLiteral => Address.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[IPv6:{Address}]"
        : $"[{Address}]";

    public string Display => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
