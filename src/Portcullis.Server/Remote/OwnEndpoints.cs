using System.Net;
using System.Net.NetworkInformation;
using Portcullis.Server.Configuration;

namespace Portcullis.Server.Remote;

/// <summary>
/// Mail-loop detection (RFC 5321 §5.1: "the SMTP client MUST ... not deliver to itself"): a destination
/// MX is a loop only when it is one of Portcullis's own listener endpoints. Any other address, loopback
/// included, is an ordinary remote server (tests and smarthosts run there).
/// </summary>
public sealed class OwnEndpoints(ListenersSection listeners)
{
    private readonly IPEndPoint[] _listeners = new[] { listeners.Mx, listeners.Submission, listeners.Submissions }.OfType<IPEndPoint>().ToArray();
    private readonly Lazy<HashSet<IPAddress>> _interfaceAddresses = new(LocalAddresses);

    public bool IsOwn(IPAddress address, int port)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var l in _listeners)
        {
            if (l.Port != port)
            {
                continue;
            }
            if (l.Address.Equals(a))
            {
                return true;
            }
            // A wildcard listener answers on every local address.
            if ((l.Address.Equals(IPAddress.Any) || l.Address.Equals(IPAddress.IPv6Any)) && (IPAddress.IsLoopback(a) || _interfaceAddresses.Value.Contains(a)))
            {
                return true;
            }
        }
        return false;
    }

    private static HashSet<IPAddress> LocalAddresses()
    {
        var set = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var u in nic.GetIPProperties().UnicastAddresses)
                {
                    set.Add(u.Address);
                }
            }
        }
        catch (NetworkInformationException)
        {
        }
        return set;
    }
}
