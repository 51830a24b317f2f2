namespace Portcullis.Audit.Proxy;

/// <summary>
/// The proxy types the auditor knows (catalog §5.2). The two that try factory passwords (HOPM's Cisco
/// "ROUTER" and DREAMBOX) are not in <see cref="ProxyProtocols.Default"/>: the catalog's caution says
/// credential guessing needs explicit written authorisation, so they run only when asked for by name.
/// </summary>
public enum ProxyProtocol
{
    HttpConnect,
    /// <summary>libopm's HTTPS: the same CONNECT, sent inside a TLS session to the proxy port.</summary>
    HttpsConnect,
    HttpGet,
    HttpPost,
    /// <summary>libopm's HTTPSPOST: the same POST, inside TLS.</summary>
    HttpsPost,
    Socks4,
    Socks4a,
    Socks5,
    Wingate,
    TelnetGateway,
    /// <summary>HOPM's "ssh" scanner: nothing is sent, the banner is compared with versions known to be abused.</summary>
    SshBanner,
    /// <summary>HOPM's ROUTER: a Cisco router's telnet with the factory password "cisco", then "telnet IP PORT".</summary>
    CiscoRouter,
    /// <summary>HOPM's DREAMBOX: a Dreambox receiver's telnet as root/dreambox, then "telnet IP PORT" (or nc).</summary>
    Dreambox,
}

public static class ProxyProtocols
{
    public static IReadOnlyList<ProxyProtocol> All { get; } = Enum.GetValues<ProxyProtocol>();

    /// <summary>Every type except those that try factory passwords (see <see cref="TriesPasswords"/>).</summary>
    public static IReadOnlyList<ProxyProtocol> Default { get; } = [.. All.Where(p => !p.TriesPasswords())];

    /// <summary>Credential guessing (catalog §5.2 caution): only with the user's written authorisation.</summary>
    public static bool TriesPasswords(this ProxyProtocol p) => p is ProxyProtocol.CiscoRouter or ProxyProtocol.Dreambox;

    /// <summary>
    /// Default ports: the union of HOPM/BOPM's and pxytest's basic lists (catalog §5.2), HOPM's ssh (22) and
    /// HTTPS (443, 8443) ports, plus tinyproxy's 8888 and Tor's 9050.
    /// </summary>
    public static IReadOnlyList<int> DefaultPorts { get; } = [22, 23, 80, 81, 443, 1080, 1181, 3128, 4480, 6588, 8000, 8080, 8081, 8443, 8888, 9050];

    /// <summary>The types spoken inside TLS to the proxy port.</summary>
    public static bool OverTls(this ProxyProtocol p) => p is ProxyProtocol.HttpsConnect or ProxyProtocol.HttpsPost;

    /// <summary>Stable id used in check ids and JSON ("proxy.socks5").</summary>
    public static string Id(this ProxyProtocol p) => p switch
    {
        ProxyProtocol.HttpConnect => "http-connect",
        ProxyProtocol.HttpsConnect => "https-connect",
        ProxyProtocol.HttpGet => "http-get",
        ProxyProtocol.HttpPost => "http-post",
        ProxyProtocol.HttpsPost => "https-post",
        ProxyProtocol.Socks4 => "socks4",
        ProxyProtocol.Socks4a => "socks4a",
        ProxyProtocol.Socks5 => "socks5",
        ProxyProtocol.Wingate => "wingate",
        ProxyProtocol.TelnetGateway => "telnet-gateway",
        ProxyProtocol.SshBanner => "ssh-banner",
        ProxyProtocol.CiscoRouter => "cisco-router",
        ProxyProtocol.Dreambox => "dreambox",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static string Title(this ProxyProtocol p) => p switch
    {
        ProxyProtocol.HttpConnect => "HTTP CONNECT tunnel",
        ProxyProtocol.HttpsConnect => "HTTPS CONNECT tunnel (CONNECT inside TLS to the proxy)",
        ProxyProtocol.HttpGet => "HTTP GET with an absolute URI",
        ProxyProtocol.HttpPost => "HTTP POST with an absolute URI",
        ProxyProtocol.HttpsPost => "HTTPS POST with an absolute URI (inside TLS to the proxy)",
        ProxyProtocol.Socks4 => "SOCKS4 CONNECT",
        ProxyProtocol.Socks4a => "SOCKS4a CONNECT (host name)",
        ProxyProtocol.Socks5 => "SOCKS5 CONNECT without authentication",
        ProxyProtocol.Wingate => "WinGate-style gateway (host:port)",
        ProxyProtocol.TelnetGateway => "telnet gateway (telnet host port)",
        ProxyProtocol.SshBanner => "SSH banner against HOPM's list of abused versions",
        ProxyProtocol.CiscoRouter => "Cisco router telnet with the factory password (telnet host port)",
        ProxyProtocol.Dreambox => "Dreambox telnet as root/dreambox (telnet host port)",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static bool TryParse(string id, out ProxyProtocol protocol)
    {
        foreach (var p in All)
        {
            if (string.Equals(p.Id(), id, StringComparison.OrdinalIgnoreCase))
            {
                protocol = p;
                return true;
            }
        }
        protocol = default;
        return false;
    }

    /// <summary>What to change so the proxy stops being open, per protocol family.</summary>
    public static string Fix(this ProxyProtocol p) => p switch
    {
        ProxyProtocol.HttpsConnect => "Allow CONNECT on the TLS port (Squid https_port) only from your own clients and only to port 443, or require Proxy-Authorization (Squid: http_access deny CONNECT !SSL_ports; http_access allow localnet; http_access deny all).",
        ProxyProtocol.HttpsPost => "Allow proxy requests on the TLS port (Squid https_port) only from your own clients, or require Proxy-Authorization.",
        ProxyProtocol.CiscoRouter => "Change the router's vty password (line vty 0 4; login local with a real account), and restrict telnet to your management network (access-class) or use SSH only (transport input ssh).",
        ProxyProtocol.Dreambox => "Set a root password on the receiver (passwd) and do not expose its telnet port (23) to the network.",
        ProxyProtocol.SshBanner => "Upgrade the SSH server (HOPM lists this version because such devices are used as tunnels with default credentials), change default passwords and disable TCP forwarding (AllowTcpForwarding no).",
        ProxyProtocol.HttpConnect => "Allow CONNECT only from your own clients and only to port 443 (Squid: http_access deny CONNECT !SSL_ports; http_access allow localnet; http_access deny all. tinyproxy: Allow <your net> and ConnectPort 443).",
        ProxyProtocol.HttpGet or ProxyProtocol.HttpPost => "Allow proxy requests only from your own clients (Squid: http_access allow localnet, then deny all; tinyproxy: Allow <your net>), or require Proxy-Authorization.",
        ProxyProtocol.Socks4 or ProxyProtocol.Socks4a => "Disable SOCKS4 (it has no authentication) or restrict client addresses (Dante: client pass { from: <your net> }; proxyprotocol: socks_v5).",
        ProxyProtocol.Socks5 => "Require authentication (Dante: socksmethod: username; microsocks: -u/-P) and restrict client addresses.",
        ProxyProtocol.Wingate or ProxyProtocol.TelnetGateway => "Disable the telnet gateway service or require a password and restrict it to your own network.",
        _ => "",
    };
}
