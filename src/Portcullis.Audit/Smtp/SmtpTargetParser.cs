using System.Globalization;
using System.Net;

namespace Portcullis.Audit.Smtp;

/// <summary>A target as typed: a host name or address, and the port when one was given.</summary>
public sealed record SmtpTargetSpec(string Host, int? Port)
{
    public bool IsAddress => IPAddress.TryParse(Host, out _);
}

/// <summary>Parses "host", "host:port", "192.0.2.1", "192.0.2.1:587", "[2001:db8::1]:25", "2001:db8::1".</summary>
public static class SmtpTargetParser
{
    public static SmtpTargetSpec Parse(string text)
    {
        var t = text.Trim();
        if (t.Length == 0)
        {
            throw new FormatException("empty target");
        }
        if (t.StartsWith('-'))
        {
            throw new FormatException($"unknown option '{t}'");
        }
        if (t.StartsWith('['))
        {
            var close = t.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(t[1..close], out var v6))
            {
                throw new FormatException($"'{text}': expected [IPv6] or [IPv6]:PORT");
            }
            var rest = t[(close + 1)..];
            return rest.Length == 0 ? new(v6.ToString(), null)
                : rest.StartsWith(':') ? new(v6.ToString(), ParsePort(rest[1..], text))
                : throw new FormatException($"'{text}': unexpected '{rest}' after the address");
        }
        if (IPAddress.TryParse(t, out var bare) && (bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 || !t.Contains(':', StringComparison.Ordinal)))
        {
            return new(bare.ToString(), null);
        }
        var colon = t.LastIndexOf(':');
        var host = colon < 0 ? t : t[..colon];
        int? port = colon < 0 ? null : ParsePort(t[(colon + 1)..], text);
        host = host.TrimEnd('.');
        if (host.Length == 0 || host.Length > 253 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new FormatException($"'{text}': not a host name, address, host:port or [IPv6]:port");
        }
        return new(host, port);
    }

    public static int ParsePort(string s, string context) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
            ? p
            : throw new FormatException($"'{context}': '{s}' is not a port (1-65535)");

    /// <summary>"25,587,465" to [25, 587, 465]; "2465/tls" marks a port with implicit TLS (465 always has it).</summary>
    public static (IReadOnlyList<int> Ports, IReadOnlySet<int> ImplicitTls) ParsePorts(string s)
    {
        var ports = new List<int>();
        var tls = new HashSet<int> { 465 };
        foreach (var item in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var implicitTls = item.EndsWith("/tls", StringComparison.OrdinalIgnoreCase);
            var port = ParsePort(implicitTls ? item[..^4] : item, s);
            if (!ports.Contains(port))
            {
                ports.Add(port);
            }
            if (implicitTls)
            {
                tls.Add(port);
            }
        }
        return ports.Count > 0 ? (ports, tls) : throw new FormatException("--ports: give at least one port, e.g. 25,587,465");
    }
}
