using System.Globalization;

namespace Portcullis.Server.Configuration;

/// <summary>"host", "host:port", "[v6]:port" as written in settings and on the command line.</summary>
public static class HostPort
{
    public static bool TryParse(string text, int defaultPort, out string host, out int port)
    {
        host = text.Trim();
        port = defaultPort;
        if (host.Length == 0)
        {
            return false;
        }
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']');
            if (close < 0)
            {
                return false;
            }
            var rest = host[(close + 1)..];
            host = host[1..close];
            return rest.Length == 0 || (rest[0] == ':' && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536);
        }
        var colon = host.LastIndexOf(':');
        if (colon >= 0 && host.IndexOf(':') == colon)
        {
            if (!int.TryParse(host[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is <= 0 or >= 65536)
            {
                return false;
            }
            host = host[..colon];
        }
        return host.Length > 0 && !host.Contains(' ');
    }
}
