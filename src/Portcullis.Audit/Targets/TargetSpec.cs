using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Audit.Targets;

/// <summary>
/// One target as the user wrote it, parsed: an address block (single address, CIDR, range) or a host
/// name, with an optional port. Accepted forms (nmap-like):
/// <c>192.0.2.7</c>, <c>192.0.2.7:25</c>, <c>192.0.2.0/24</c>, <c>192.0.2.10-192.0.2.40</c>,
/// <c>192.0.2.10-40</c>, <c>2001:db8::1</c>, <c>[2001:db8::1]:25</c>, <c>2001:db8::/120</c>,
/// <c>2001:db8::1-2001:db8::ff</c>, <c>mail.example.com</c>, <c>mail.example.com:25</c>.
/// </summary>
public sealed record TargetSpec
{
    public AddressBlock? Block { get; init; }
    public string? HostName { get; init; }
    public int? Port { get; init; }
    public required string Text { get; init; }

    public bool IsName => HostName is not null;

    public static TargetSpec Parse(string text)
    {
        if (!TryParse(text, out var spec, out var error))
        {
            throw new FormatException(error);
        }
        return spec;
    }

    public static bool TryParse(string text, out TargetSpec spec, out string error)
    {
        spec = null!;
        error = "";
        var t = text.Trim();
        if (t.Length == 0)
        {
            error = "empty target";
            return false;
        }
        int? port = null;
        var body = t;

        // [v6]:port
        if (body.StartsWith('['))
        {
            var close = body.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{text}': missing ']'";
                return false;
            }
            var after = body[(close + 1)..];
            body = body[1..close];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':') || !TryPort(after[1..], out var p))
                {
                    error = $"'{text}': bad port after ']'";
                    return false;
                }
                port = p;
            }
        }
        else if (body.Count(c => c == ':') == 1)
        {
            // host:port or a.b.c.d:port (IPv6 without brackets has two or more colons)
            var colon = body.IndexOf(':', StringComparison.Ordinal);
            if (!TryPort(body[(colon + 1)..], out var p))
            {
                error = $"'{text}': bad port '{body[(colon + 1)..]}' (1-65535)";
                return false;
            }
            port = p;
            body = body[..colon];
        }

        // CIDR
        var slash = body.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            if (!IPAddress.TryParse(body[..slash], out var net) ||
                !int.TryParse(body[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var len) ||
                len < 0 || len > AddressBlock.BitLength(net.AddressFamily))
            {
                error = $"'{text}': not a CIDR block (address/prefix-length)";
                return false;
            }
            var first = AddressBlock.ToNumber(net) & AddressBlock.MaskFor(net.AddressFamily, len);
            var size = AddressBlock.PrefixSize(net.AddressFamily, len);
            spec = new TargetSpec { Block = new AddressBlock(net.AddressFamily, first, size, body), Port = port, Text = t };
            return true;
        }

        // Range a-b, or a.b.c.d-N (last octet)
        var dash = body.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && IPAddress.TryParse(body[..dash], out var from))
        {
            var rest = body[(dash + 1)..];
            UInt128 lo = AddressBlock.ToNumber(from), hi;
            // "40" alone is the last octet (nmap style); IPAddress.TryParse would read it as 0.0.0.40.
            var lastOctetOnly = rest.Length is > 0 and <= 3 && rest.All(char.IsAsciiDigit);
            if (!lastOctetOnly && IPAddress.TryParse(rest, out var to))
            {
                if (to.AddressFamily != from.AddressFamily)
                {
                    error = $"'{text}': both ends of a range must be the same address family";
                    return false;
                }
                hi = AddressBlock.ToNumber(to);
            }
            else if (from.AddressFamily == AddressFamily.InterNetwork &&
                     byte.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var lastOctet))
            {
                hi = (lo & ~(UInt128)0xFF) | lastOctet;
            }
            else
            {
                error = $"'{text}': bad range end '{rest}'";
                return false;
            }
            if (hi < lo)
            {
                error = $"'{text}': range ends before it starts";
                return false;
            }
            spec = new TargetSpec { Block = new AddressBlock(from.AddressFamily, lo, hi - lo + 1, body), Port = port, Text = t };
            return true;
        }

        if (IPAddress.TryParse(body, out var single))
        {
            if (single.AddressFamily == AddressFamily.InterNetworkV6 && single.ScopeId != 0)
            {
                single.ScopeId = 0;
            }
            spec = new TargetSpec { Block = AddressBlock.Single(single, body), Port = port, Text = t };
            return true;
        }

        if (IsHostName(body))
        {
            spec = new TargetSpec { HostName = body.TrimEnd('.').ToLowerInvariant(), Port = port, Text = t };
            return true;
        }
        error = $"'{text}': not an address, CIDR block, range or host name";
        return false;
    }

    /// <summary>Reads a file of targets: one or more per line (space or comma separated); '#' starts a comment.</summary>
    public static IReadOnlyList<TargetSpec> ParseFile(string path)
    {
        var list = new List<TargetSpec>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw;
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }
            foreach (var word in line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries))
            {
                if (!TryParse(word, out var spec, out var error))
                {
                    throw new FormatException($"{path}:{lineNo}: {error}");
                }
                list.Add(spec);
            }
        }
        return list;
    }

    /// <summary>Parses command-line words; a word "@FILE" (or the name of an existing file) is read as a file of targets.</summary>
    public static IReadOnlyList<TargetSpec> ParseAll(IEnumerable<string> words)
    {
        var list = new List<TargetSpec>();
        foreach (var w in words)
        {
            if (w.StartsWith('@'))
            {
                list.AddRange(ParseFile(w[1..]));
            }
            else if (w.Contains('/', StringComparison.Ordinal) && File.Exists(w))
            {
                list.AddRange(ParseFile(w));
            }
            else
            {
                list.Add(Parse(w));
            }
        }
        return list;
    }

    private static bool TryPort(string s, out int port) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static bool IsHostName(string s) =>
        s.Length is > 0 and <= 253 &&
        s.TrimEnd('.').Split('.').All(label => label.Length is > 0 and <= 63 &&
            label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_') &&
            label[0] != '-' && label[^1] != '-');
}
