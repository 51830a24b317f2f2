using Portcullis.Audit.Scan.Syn;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Scan;

/// <summary>`--discovery`: SYN over raw sockets, TCP connect, or auto (SYN where it can run, else connect).</summary>
public enum DiscoveryMethod { Auto, Syn, Connect }

/// <summary>Picks the discovery method for a scan and says why, for the log line before discovery starts.</summary>
public static class DiscoveryChoice
{
    /// <summary>In-flight default per method: connect attempts hold a socket each; SYN probes hold one bit.</summary>
    public const int ConnectConcurrency = 512;
    public const int SynConcurrency = 16384;

    /// <summary>
    /// The method to use and a sentence for the log. Auto falls back to connect when SYN cannot run
    /// (no CAP_NET_RAW, not Linux, IPv6 targets); an explicit Syn that cannot run is an ArgumentException.
    /// </summary>
    public static (DiscoveryMethod Method, string Reason) Resolve(DiscoveryMethod requested, EndpointSpace space)
    {
        if (requested == DiscoveryMethod.Connect)
        {
            return (DiscoveryMethod.Connect, "TCP connect (--discovery connect)");
        }
        var why = SynDiscovery.Unavailable(space);
        if (why is null)
        {
            return (DiscoveryMethod.Syn, requested == DiscoveryMethod.Syn ? "SYN over a raw socket (--discovery syn)" : "SYN over a raw socket (auto: CAP_NET_RAW available)");
        }
        if (requested == DiscoveryMethod.Syn)
        {
            throw new ArgumentException("--discovery syn: " + why);
        }
        return (DiscoveryMethod.Connect, "TCP connect (auto: SYN discovery unavailable: " + why + ")");
    }

    public static IPortDiscovery Create(EndpointSpace space, DiscoveryOptions options, long startIndex) => options.Method switch
    {
        DiscoveryMethod.Syn => new SynDiscovery(space, options, startIndex),
        DiscoveryMethod.Connect => new PortDiscovery(space, options, startIndex),
        _ => throw new ArgumentException("resolve --discovery auto before creating the discovery", nameof(options)),
    };
}
