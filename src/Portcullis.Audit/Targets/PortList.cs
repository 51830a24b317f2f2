using System.Globalization;

namespace Portcullis.Audit.Targets;

/// <summary>Parses port lists as nmap writes them: "25,587,8000-8010".</summary>
public static class PortList
{
    public static IReadOnlyList<int> Parse(string text)
    {
        var ports = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                ports.Add(One(part, text));
                continue;
            }
            var lo = One(part[..dash], text);
            var hi = One(part[(dash + 1)..], text);
            if (hi < lo)
            {
                throw new FormatException($"port range '{part}' ends before it starts");
            }
            for (var p = lo; p <= hi; p++)
            {
                ports.Add(p);
            }
        }
        if (ports.Count == 0)
        {
            throw new FormatException($"no ports in '{text}'");
        }
        return [.. ports];
    }

    private static int One(string s, string whole) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535
            ? p
            : throw new FormatException($"'{s}' in '{whole}' is not a port (1-65535)");
}
