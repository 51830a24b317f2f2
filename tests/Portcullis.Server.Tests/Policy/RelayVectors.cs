using System.Net;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;

namespace Portcullis.Server.Tests.Policy;

/// <summary>Reads tests/vectors/relay-vectors.txt, the golden table of recipient decisions.</summary>
public static class RelayVectors
{
    public sealed record Case(int Line, string Client, string Argument, int Code, string Enhanced, string Rule)
    {
        public override string ToString() => $"line {Line}: {Client} RCPT TO:{Argument}";
    }

    public static IReadOnlyList<Case> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "relay-vectors.txt");
        var list = new List<Case>();
        var n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var parts = line.Split(" | ");
            if (parts.Length != 4)
            {
                throw new FormatException($"relay-vectors.txt line {n}: expected 4 fields separated by ' | '");
            }
            var reply = parts[2].Split(' ');
            list.Add(new Case(n, parts[0], parts[1], int.Parse(reply[0], System.Globalization.CultureInfo.InvariantCulture), reply[1], parts[3]));
        }
        return list;
    }

    public static readonly DirectorySnapshot Directory = new(
        ["example.test"],
        ["alice@example.test", "bob@example.test"],
        [new KeyValuePair<string, string>("sales@example.test", "alice@example.test")]);

    public const string Postmaster = "alice@example.test";

    /// <summary>The server of the table's header: postmaster alice, host name mx.example.test.</summary>
    public static readonly RoleAccounts Roles = new(Postmaster, "mx.example.test");

    public static ClientFacts ClientFor(string kind) => kind switch
    {
        "mx" => new ClientFacts(IPAddress.Parse("203.0.113.9"), ListenerKind.Mx, false, null, false),
        "mx-lan" => new ClientFacts(IPAddress.Parse("10.1.2.3"), ListenerKind.Mx, false, null, true),
        "sub-anon" => new ClientFacts(IPAddress.Parse("10.1.2.3"), ListenerKind.Submission, true, null, true),
        "sub-auth" => new ClientFacts(IPAddress.Parse("203.0.113.9"), ListenerKind.Submission, true, "bob@example.test", false),
        _ => throw new ArgumentException("unknown client kind " + kind),
    };
}
