using System.Net;
using System.Net.Sockets;
using Portcullis.Server.Configuration;

namespace Portcullis.Configuration;

/// <summary>
/// DESIGN principle 1: no setting may turn the server into an open relay. A trusted network that covers
/// everything, or a large block of public address space, is refused with the reason.
/// </summary>
public static class TrustedNetworkRule
{
    private static readonly IpNetwork[] PrivateBlocks =
    [
        new(IPAddress.Parse("10.0.0.0"), 8),
        new(IPAddress.Parse("172.16.0.0"), 12),
        new(IPAddress.Parse("192.168.0.0"), 16),
        new(IPAddress.Parse("127.0.0.0"), 8),
        new(IPAddress.Parse("100.64.0.0"), 10),
        new(IPAddress.Parse("fc00::"), 7),
        new(IPAddress.Parse("::1"), 128),
    ];

    /// <summary>Null when the network is acceptable as trusted; otherwise why it is not.</summary>
    public static string? Problem(IpNetwork net)
    {
        var v4 = net.Prefix.AddressFamily == AddressFamily.InterNetwork;
        if (net.PrefixLength == 0)
        {
            return $"{net} covers every address: trusting it would make an open relay";
        }
        if (PrivateBlocks.Any(p => p.Prefix.AddressFamily == net.Prefix.AddressFamily && p.PrefixLength <= net.PrefixLength && p.Contains(net.Prefix)))
        {
            return null;
        }
        // Public space: RFC 2505 §2.2 asks for relaying only from known clients; a block wider than /16
        // (IPv4) or /48 (IPv6) is not "known clients", it is a slice of the Internet.
        var limit = v4 ? 16 : 48;
        if (net.PrefixLength < limit)
        {
            return $"{net} is wider than /{limit} of public address space: trusting it would make an open relay for everyone in it";
        }
        return null;
    }
}
