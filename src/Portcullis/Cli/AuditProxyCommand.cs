using System.CommandLine;
using System.Net;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Targets;
using Spectre.Console;

namespace Portcullis.Cli;

/// <summary>
/// `portcullis audit proxy HOST[:PORT]...`: is this host an open proxy? Every proxy type of catalog §5.2
/// on every port, proven only by traffic that came back through the proxy from the canary or a mail server.
/// </summary>
public static class AuditProxyCommand
{
    public static Command Build()
    {
        var targets = new Argument<string[]>("targets")
        {
            Description = "Hosts to test: HOST, HOST:PORT, [IPv6]:PORT. With a port, every proxy type is tried on that port; without, on the --ports list.",
            Arity = ArgumentArity.OneOrMore,
        };
        var ports = new Option<string?>("--ports", "-p")
        {
            Description = "Ports to test when a target has none (default: " + string.Join(",", ProxyProtocols.DefaultPorts) + ", from HOPM/BOPM and pxytest).",
        };
        var protocols = new Option<string?>("--protocols")
        {
            Description = "Only these proxy types, comma separated: " + string.Join(",", ProxyProtocols.All.Select(p => p.Id())) + " (default: all but cisco-router and dreambox).",
        };
        var defaultPasswords = new Option<bool>("--try-default-passwords")
        {
            Description = "Also try HOPM's factory-password types (cisco-router: password \"cisco\"; dreambox: root/dreambox). This is credential guessing: only with the host owner's written authorisation.",
        };
        var canary = new Option<string?>("--canary-listen")
        {
            Description = "Run the built-in canary on ADDR:PORT; proxies are asked to connect there and an open one brings its unique token back. The proxies must be able to reach this address.",
        };
        var advertise = new Option<string?>("--canary-advertise")
        {
            Description = "Address the proxies should connect to for the canary, when it differs from the --canary-listen address (NAT, wildcard listen).",
        };
        var throughTo = new Option<string?>("--through-to")
        {
            Description = "A mail server HOST:PORT (e.g. your MX on port 25): proxies are asked to connect there, and an open one shows its 220 greeting, exactly as read directly: the spam path. With --canary-listen too, both are tried.",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for each step (connect, reply, proof).",
            DefaultValueFactory = _ => 5,
        };
        var hostConnections = new Option<int>("--host-connections")
        {
            Description = "Connections open at once to one host (default 1: the probes of a host run one after another, as catalog §6.2 asks: at most one connection per target at a time).",
            DefaultValueFactory = _ => 1,
        };
        var json = new Option<bool>("--json") { Description = "Write the reports as JSON (docs/audit-json.md) on standard output, and nothing else." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show every check and the bytes exchanged (evidence) for failures." };

        var cmd = new Command("proxy", """
            Test hosts for open proxies: HTTP CONNECT, HTTP GET/POST with an absolute URI, the same CONNECT and POST inside
            TLS (HTTPS proxies), SOCKS4, SOCKS4a, SOCKS5 without authentication, WinGate and telnet gateways, and HOPM's SSH
            banner list (catalog §5.2); HOPM's factory-password types (cisco-router, dreambox) only with
            --try-default-passwords. A proxy is OPEN only when the canary's token (--canary-listen) or the mail server's
            greeting (--through-to) came back through it; a proxy that says yes but never connects is reported
            "grants but did not connect" and is not open. One connection at a time per host unless --host-connections says so.
            Exit codes: 0 closed, 1 open, 3 inconclusive, 2 usage error. Only test hosts you are authorised to test.
            """);
        cmd.Arguments.Add(targets);
        foreach (var o in new Option[] { ports, protocols, defaultPasswords, canary, advertise, throughTo, timeout, hostConnections, json, verbose })
        {
            cmd.Options.Add(o);
        }
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            try
            {
                return await RunAsync(r.GetValue(targets)!, r.GetValue(ports), ParseProtocols(r.GetValue(protocols), r.GetValue(defaultPasswords)), r.GetValue(canary), r.GetValue(advertise),
                    r.GetValue(throughTo), r.GetValue(timeout), r.GetValue(hostConnections), r.GetValue(json), r.GetValue(verbose), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                await Console.Error.WriteLineAsync("portcullis audit proxy: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        });
        return cmd;
    }

    private static async Task<int> RunAsync(string[] targetWords, string? portsText, IReadOnlyList<ProxyProtocol> protocols, string? canaryListen, string? canaryAdvertise,
        string? throughTo, double timeoutSeconds, int hostConnections, bool json, bool verbose, CancellationToken ct)
    {
        if (timeoutSeconds is <= 0 or > 600)
        {
            throw new ArgumentException("--timeout must be between 0 and 600 seconds");
        }
        if (hostConnections is < 1 or > 64)
        {
            throw new ArgumentException("--host-connections must be between 1 and 64");
        }
        var step = TimeSpan.FromSeconds(timeoutSeconds);
        var defaultPorts = portsText is null ? ProxyProtocols.DefaultPorts : PortList.Parse(portsText);
        var hosts = new List<(string Label, IPAddress Address, IReadOnlyList<int> Ports)>();
        foreach (var word in targetWords)
        {
            var spec = TargetSpec.Parse(word);
            if (spec.Block is { } range && range.Count > 1)
            {
                throw new ArgumentException($"'{word}' is a range: use `portcullis scan {word} --proxy` for networks");
            }
            IPAddress address;
            if (spec.Block is { } b)
            {
                address = b.AddressAt(0);
            }
            else
            {
                var found = await Dns.GetHostAddressesAsync(spec.HostName!, ct).ConfigureAwait(false);
                address = found.FirstOrDefault() ?? throw new ArgumentException($"'{spec.HostName}' has no address");
            }
            hosts.Add((word, address, spec.Port is { } p ? [p] : defaultPorts));
        }

        await using var destinations = await ProxyDestinations.CreateAsync(canaryListen, canaryAdvertise, throughTo, step, ct).ConfigureAwait(false);
        var options = new ProxyAuditOptions
        {
            Protocols = protocols,
            Timeouts = new ProbeTimeouts { Connect = step, Reply = step, Proof = step, Prompt = TimeSpan.FromSeconds(Math.Min(2, timeoutSeconds)) },
            MaxConnections = hostConnections,
        };
        if (!json)
        {
            await Console.Error.WriteLineAsync($"testing {hosts.Count} target(s) via {string.Join(" and ", destinations.List.Select(d => d.Describe))}...").ConfigureAwait(false);
        }
        // Different hosts run side by side; targets naming the same address run one after another, so a host
        // never sees more than --host-connections connections at once. The report keeps the order given.
        var reports = new AuditReport[hosts.Count];
        var byHost = Enumerable.Range(0, hosts.Count).GroupBy(i => hosts[i].Address).Select(g => g.ToList()).ToList();
        await Parallel.ForEachAsync(byHost, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (group, token) =>
        {
            foreach (var i in group)
            {
                var (label, address, hostPorts) = hosts[i];
                var report = await ProxyAuditor.AuditAsync(label, address, hostPorts, destinations.List, options, token).ConfigureAwait(false);
                reports[i] = report with { Audit = "proxy" };
            }
        }).ConfigureAwait(false);
        if (json)
        {
            ReportWriter.WriteJson(Console.Out, reports);
        }
        else
        {
            ReportWriter.WriteText(AnsiConsole.Console, reports, verbose);
        }
        return ExitCodes.For(reports);
    }

    /// <summary>
    /// --protocols, or the default set. The factory-password types (catalog §5.2 caution) need
    /// --try-default-passwords, also when named in --protocols.
    /// </summary>
    internal static IReadOnlyList<ProxyProtocol> ParseProtocols(string? text, bool tryDefaultPasswords)
    {
        if (text is null)
        {
            return tryDefaultPasswords ? ProxyProtocols.All : ProxyProtocols.Default;
        }
        var list = new List<ProxyProtocol>();
        foreach (var id in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ProxyProtocols.TryParse(id, out var p))
            {
                throw new ArgumentException($"--protocols: unknown proxy type '{id}' (known: {string.Join(", ", ProxyProtocols.All.Select(x => x.Id()))})");
            }
            if (p.TriesPasswords() && !tryDefaultPasswords)
            {
                throw new ArgumentException($"--protocols {p.Id()} tries factory passwords (credential guessing): add --try-default-passwords, and only with the host owner's written authorisation");
            }
            list.Add(p);
        }
        return list.Count > 0 ? list : throw new ArgumentException("--protocols: empty list");
    }
}
