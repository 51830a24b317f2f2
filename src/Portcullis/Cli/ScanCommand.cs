using System.CommandLine;
using System.Globalization;
using System.Net;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Proxy;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Scan;
using Portcullis.Audit.Smtp;
using Portcullis.Audit.Targets;
using Spectre.Console;

namespace Portcullis.Cli;

/// <summary>
/// `portcullis scan TARGETS --smtp --proxy`: find the open SMTP and proxy ports of whole networks (SYN or
/// TCP connect discovery with bounded concurrency and rate, docs/scan.md), then audit each one.
/// </summary>
public static class ScanCommand
{
    /// <summary>The fact sheet's advice, printed before every scan.</summary>
    public const string Notice = "Only scan networks you are authorised to test, and tell your network administrators before you do: a scan looks like an attack to their monitoring.";

    public const int UnauthorizedLimit = 256;

    public static Command Build()
    {
        var targets = new Argument<string[]>("targets")
        {
            Description = "What to scan: addresses, CIDR blocks (192.0.2.0/24, 2001:db8::/120), ranges (192.0.2.10-40, A-B), HOST:PORT, domains (their MX hosts), @FILE or a path to a file of targets.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var smtp = new Option<bool>("--smtp") { Description = "Audit open SMTP ports (--smtp-ports) for relaying." };
        var proxy = new Option<bool>("--proxy") { Description = "Audit the other open ports for open proxies (needs --canary-listen and/or --through-to)." };
        var ports = new Option<string?>("--ports", "-p") { Description = "Ports to discover (default: --smtp-ports with --smtp, plus --proxy-ports with --proxy)." };
        var smtpPorts = new Option<string>("--smtp-ports") { Description = "Ports audited as SMTP.", DefaultValueFactory = _ => "25,587" };
        var proxyPorts = new Option<string>("--proxy-ports") { Description = "Default proxy ports to discover.", DefaultValueFactory = _ => "1080,3128,8080" };
        var discoveryMethod = new Option<string>("--discovery")
        {
            Description = "How to find open ports: syn (half-open SYN probes over a raw socket: Linux, IPv4, needs CAP_NET_RAW), connect (full TCP connects), or auto: syn where it can run, else connect (the reason is logged).",
            DefaultValueFactory = _ => "auto",
        };
        discoveryMethod.AcceptOnlyFromAmong("auto", "syn", "connect");
        var concurrency = new Option<int?>("--concurrency") { Description = $"Discovery probes in flight: connect attempts (default {DiscoveryChoice.ConnectConcurrency}), or SYN probes not yet answered (default {DiscoveryChoice.SynConcurrency})." };
        var rate = new Option<double>("--rate") { Description = "Discovery probes per second: connect attempts, or SYN packets including retransmissions (0: as fast as --concurrency allows).", DefaultValueFactory = _ => 0 };
        var connectTimeout = new Option<double>("--connect-timeout") { Description = "Seconds before a silent port counts as filtered.", DefaultValueFactory = _ => 1.5 };
        var auditConcurrency = new Option<int>("--audit-concurrency") { Description = "Hosts audited at once (one host's audits always run one after another).", DefaultValueFactory = _ => 64 };
        var hostConnections = new Option<int>("--host-connections") { Description = "Connections a proxy audit may open at once to one host (default 1: never more than one connection at a time to a host).", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for each audit step.", DefaultValueFactory = _ => 3 };
        var canary = new Option<string?>("--canary-listen") { Description = "Run the proxy canary on ADDR:PORT (reachable by the proxies)." };
        var advertise = new Option<string?>("--canary-advertise") { Description = "Address proxies should use to reach the canary, when it differs from the listen address." };
        var throughTo = new Option<string?>("--through-to") { Description = "A mail server HOST:PORT whose 220 greeting open proxies must relay." };
        var smtpCanaryListen = new Option<string?>("--smtp-canary-listen") { Description = "ADDR:PORT for `audit smtp`'s canary SMTP receiver, which proves relaying (with --smtp-canary-domain)." };
        var smtpCanaryDomain = new Option<string?>("--smtp-canary-domain") { Description = "Relay tests send to addresses at this domain (its MX must point at --smtp-canary-listen); without it an accepted foreign RCPT stays a candidate." };
        var jsonl = new Option<string?>("--jsonl") { Description = "Stream every finding to FILE as JSON lines (open ports, checkpoints, reports)." };
        var resumeOpt = new Option<string?>("--resume") { Description = "Continue the scan recorded in this --jsonl FILE (targets, ports, --rate, --concurrency and the other scan options come from the file unless given again; new lines are appended)." };
        var authorized = new Option<bool>("--authorized") { Description = $"Confirm you are authorised to scan these networks (needed above {UnauthorizedLimit} addresses)." };
        var dnsServer = new Option<string?>("--dns-server") { Description = "DNS server (ADDR[:PORT]) for domain targets' MX lookups." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print every audit report in full after the summary." };

        var cmd = new Command("scan", $"""
            Scan networks for open relays and open proxies: discovery of the SMTP and proxy ports (SYN probes over a raw
            socket when the process has CAP_NET_RAW, else TCP connects; see --discovery), then
            `audit smtp`-style and `audit proxy` checks of every port that answered, with a live progress bar on a terminal
            and a summary table at the end. {Notice}
            Exit codes: 0 nothing open, 1 something open, 3 inconclusive results, 2 usage error.
            """);
        cmd.Arguments.Add(targets);
        foreach (var o in new Option[] { smtp, proxy, ports, smtpPorts, proxyPorts, discoveryMethod, concurrency, rate, connectTimeout, auditConcurrency, hostConnections, timeout,
                     canary, advertise, throughTo, smtpCanaryListen, smtpCanaryDomain, jsonl, resumeOpt, authorized, dnsServer, verbose })
        {
            cmd.Options.Add(o);
        }
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            try
            {
                var settings = new Settings(
                    r.GetValue(targets) ?? [], r.GetValue(smtp), r.GetValue(proxy), r.GetValue(ports), r.GetValue(smtpPorts)!, r.GetValue(proxyPorts)!,
                    r.GetResult(discoveryMethod) is { Implicit: false } ? Enum.Parse<DiscoveryMethod>(r.GetValue(discoveryMethod)!, ignoreCase: true) : null,
                    r.GetValue(concurrency), Given(r, rate), Given(r, connectTimeout), Given(r, auditConcurrency), Given(r, hostConnections), Given(r, timeout),
                    r.GetValue(canary), r.GetValue(advertise), r.GetValue(throughTo), r.GetValue(smtpCanaryListen), r.GetValue(smtpCanaryDomain),
                    r.GetValue(jsonl), r.GetValue(resumeOpt),
                    r.GetValue(authorized), r.GetValue(dnsServer), r.GetValue(verbose));
                return await RunAsync(settings, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or DnsLookupException or IOException)
            {
                await Console.Error.WriteLineAsync("portcullis scan: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        });
        return cmd;
    }

    /// <summary>The option's value when the user typed it, null when only its default applies (so --resume can tell).</summary>
    private static T? Given<T>(ParseResult r, Option<T> option) where T : struct =>
        r.GetResult(option) is { Implicit: false } ? r.GetValue(option) : null;

    /// <summary>The numeric options are null when not given: a resumed scan then takes them from the journal.</summary>
    private sealed record Settings(string[] Targets, bool Smtp, bool Proxy, string? Ports, string SmtpPorts, string ProxyPorts,
        DiscoveryMethod? Discovery, int? Concurrency, double? Rate, double? ConnectTimeout, int? AuditConcurrency, int? HostConnections, double? Timeout,
        string? Canary, string? Advertise, string? ThroughTo, string? SmtpCanaryListen, string? SmtpCanaryDomain, string? Jsonl, string? Resume, bool Authorized, string? DnsServer, bool Verbose);

    /// <summary>The settings with every scan-shaping value decided: given on the command line, else the journal's, else the default.</summary>
    private sealed record Shape(DiscoveryMethod Discovery, int? Concurrency, double Rate, double ConnectTimeout, int AuditConcurrency, int HostConnections, double Timeout)
    {
        public static Shape From(Settings s, ScanHeader? h) => new(
            s.Discovery ?? (Enum.TryParse<DiscoveryMethod>(h?.Discovery, ignoreCase: true, out var m) ? m : DiscoveryMethod.Auto),
            s.Concurrency ?? h?.Concurrency, // null: the discovery method's default
            s.Rate ?? h?.Rate ?? 0,
            s.ConnectTimeout ?? h?.ConnectTimeout ?? 1.5,
            s.AuditConcurrency ?? h?.AuditConcurrency ?? 64,
            s.HostConnections ?? h?.HostConnections ?? 1,
            s.Timeout ?? h?.Timeout ?? 3);
    }

    private static async Task<int> RunAsync(Settings s, CancellationToken ct)
    {
        ResumeState? resume = null;
        var targetWords = s.Targets;
        var doSmtp = s.Smtp;
        var doProxy = s.Proxy;
        var smtpPorts = PortList.Parse(s.SmtpPorts);
        IReadOnlyList<int> ports;
        if (s.Resume is not null)
        {
            resume = ScanJournal.Read(s.Resume);
            if (targetWords.Length > 0 && !targetWords.SequenceEqual(resume.Header.Targets))
            {
                throw new ArgumentException($"--resume {s.Resume}: the journal scans {string.Join(" ", resume.Header.Targets)}; leave the targets out to continue it");
            }
            targetWords = [.. resume.Header.Targets];
            ports = resume.Header.Ports;
            smtpPorts = resume.Header.SmtpPorts;
            doSmtp = resume.Header.Smtp;
            doProxy = resume.Header.Proxy;
            // Options given again on the command line win; the rest come from the journal.
            s = s with
            {
                Canary = s.Canary ?? resume.Header.CanaryListen,
                Advertise = s.Advertise ?? resume.Header.CanaryAdvertise,
                ThroughTo = s.ThroughTo ?? resume.Header.ThroughTo,
                DnsServer = s.DnsServer ?? resume.Header.DnsServer,
                SmtpCanaryListen = s.SmtpCanaryListen ?? resume.Header.SmtpCanaryListen,
                SmtpCanaryDomain = s.SmtpCanaryDomain ?? resume.Header.SmtpCanaryDomain,
                Authorized = s.Authorized || resume.Header.Authorized,
            };
        }
        else
        {
            if (targetWords.Length == 0)
            {
                throw new ArgumentException("no targets: give addresses, CIDR blocks, ranges, domains or @FILE (or --resume FILE)");
            }
            ports = s.Ports is not null ? PortList.Parse(s.Ports)
                : [.. (doSmtp ? smtpPorts : []).Concat(doProxy || !doSmtp ? PortList.Parse(s.ProxyPorts) : []).Distinct().Order()];
        }
        var shape = Shape.From(s, resume?.Header);
        if (shape.Concurrency is < 1 or > 1 << 24 || shape.AuditConcurrency is < 1 or > 4096 || shape.HostConnections is < 1 or > 64 || shape.Rate < 0 || shape.ConnectTimeout is <= 0 or > 60 || shape.Timeout is <= 0 or > 600)
        {
            throw new ArgumentException("--concurrency 1-16777216, --audit-concurrency 1-4096, --host-connections 1-64, --rate >= 0, --connect-timeout 0-60 s, --timeout 0-600 s");
        }

        var specs = TargetSpec.ParseAll(targetWords);
        var blocks = await ExpandAsync(specs, ports, s.DnsServer, ct).ConfigureAwait(false);
        var space = new EndpointSpace(blocks);
        if (space.AddressCount > UnauthorizedLimit && !s.Authorized)
        {
            throw new ArgumentException($"{space.AddressCount} addresses: scans of more than {UnauthorizedLimit} addresses need --authorized. {Notice}");
        }
        if (resume is not null && resume.Header.Endpoints != space.Count)
        {
            throw new ArgumentException($"--resume {s.Resume}: the targets now expand to {space.Count} endpoints, the journal had {resume.Header.Endpoints} (did a domain's MX change?)");
        }
        await Console.Error.WriteLineAsync("portcullis scan: " + Notice).ConfigureAwait(false);
        var (method, methodReason) = DiscoveryChoice.Resolve(shape.Discovery, space);
        var inFlight = shape.Concurrency ?? (method == DiscoveryMethod.Syn ? DiscoveryChoice.SynConcurrency : DiscoveryChoice.ConnectConcurrency);
        if (method == DiscoveryMethod.Connect && inFlight > 65536)
        {
            throw new ArgumentException("--concurrency: at most 65536 connect attempts in flight");
        }
        await Console.Error.WriteLineAsync("portcullis scan: discovery by " + methodReason).ConfigureAwait(false);

        var step = TimeSpan.FromSeconds(shape.Timeout);
        await using var destinations = doProxy
            ? await ProxyDestinations.CreateAsync(s.Canary, s.Advertise, s.ThroughTo, step, ct).ConfigureAwait(false)
            : null;
        if ((s.SmtpCanaryListen is null) != (s.SmtpCanaryDomain is null))
        {
            throw new ArgumentException("--smtp-canary-listen and --smtp-canary-domain go together");
        }
        await using var smtpCanary = s.SmtpCanaryListen is null ? null : SmtpCanary.Start(ProxyDestinations.ParseEndPoint(s.SmtpCanaryListen, "--smtp-canary-listen", allowAnyPort: true));
        var smtpOptions = new SmtpAuditOptions
        {
            CanaryDomain = s.SmtpCanaryDomain,
            Canary = smtpCanary,
            CanaryWait = TimeSpan.FromSeconds(Math.Max(5, shape.Timeout * 2)),
            TargetBudget = TimeSpan.FromSeconds(60),
            Probe = new ProbeOptions { StepTimeout = step, ConnectTimeout = step },
        };
        var pacer = new ConnectionPacer(0);
        var options = new ScanOptions
        {
            Discovery = new DiscoveryOptions { Method = method, Concurrency = inFlight, Rate = shape.Rate, ConnectTimeout = TimeSpan.FromSeconds(shape.ConnectTimeout) },
            Smtp = doSmtp,
            Proxy = doProxy,
            SmtpPorts = smtpPorts.ToHashSet(),
            AuditConcurrency = shape.AuditConcurrency,
            ProxyDestinations = destinations?.List ?? [],
            ProxyAudit = new ProxyAuditOptions
            {
                Timeouts = new ProbeTimeouts { Connect = step, Reply = step, Proof = step, Prompt = TimeSpan.FromSeconds(Math.Min(1, shape.Timeout)) },
                MaxConnections = shape.HostConnections,
            },
            SmtpAudit = async (ep, token) =>
            {
                // The `audit smtp` auditor (issue 4), one port per report, like the proxy audits.
                var auditor = new SmtpAuditor(smtpOptions with { Ports = [ep.Port] }, pacer.WaitAsync);
                return await auditor.AuditAsync(ep.ToString(), ep.Address, null, token).ConfigureAwait(false);
            },
        };

        var journalPath = s.Jsonl ?? s.Resume;
        using var journal = journalPath is null ? null : ScanJournal.Create(journalPath, append: resume is not null && journalPath == s.Resume);
        if (journal is not null && (resume is null || journalPath != s.Resume))
        {
            journal.Header(new ScanHeader
            {
                Targets = targetWords,
                Ports = ports,
                SmtpPorts = smtpPorts,
                Smtp = doSmtp,
                Proxy = doProxy,
                Endpoints = space.Count,
                CanaryListen = s.Canary,
                CanaryAdvertise = s.Advertise,
                ThroughTo = s.ThroughTo,
                Timeout = shape.Timeout,
                SmtpCanaryListen = s.SmtpCanaryListen,
                SmtpCanaryDomain = s.SmtpCanaryDomain,
                Authorized = s.Authorized,
                Discovery = shape.Discovery.ToString().ToLowerInvariant(),
                Concurrency = shape.Concurrency,
                Rate = shape.Rate,
                ConnectTimeout = shape.ConnectTimeout,
                AuditConcurrency = shape.AuditConcurrency,
                HostConnections = shape.HostConnections,
                DnsServer = s.DnsServer,
            });
        }
        var runner = new ScanRunner(space, options, journal, resume);
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"scanning {space.AddressCount} address(es) x {ports.Count} port(s) ({string.Join(",", ports)}) = {space.Count} endpoints; {inFlight} in flight{(shape.Rate > 0 ? $", {shape.Rate}/s" : "")}; audits: {shape.AuditConcurrency} host(s) at once, {shape.HostConnections} connection(s) per host, {shape.Timeout} s steps{(resume is not null ? $"; resuming at {resume.Checkpoint}" : "")}")).ConfigureAwait(false);

        var run = runner.RunAsync(ct);
        await ScanProgress.ShowAsync(runner, run).ConfigureAwait(false);
        var result = await run.ConfigureAwait(false);

        ScanSummary.Write(AnsiConsole.Console, Console.Out, space, ports, result);
        if (s.Verbose && result.Reports.Count > 0)
        {
            ReportWriter.WriteText(AnsiConsole.Console, result.Reports, verbose: true);
        }
        if (result.Cancelled)
        {
            await Console.Error.WriteLineAsync(journalPath is null
                ? "portcullis scan: interrupted (give --jsonl FILE to be able to --resume)"
                : $"portcullis scan: interrupted; continue with: portcullis scan --resume {journalPath}").ConfigureAwait(false);
            return ExitCodes.Inconclusive;
        }
        return ExitCodes.For(result.Reports);
    }

    /// <summary>Targets to address blocks: a domain means its MX hosts; HOST:PORT a host; the rest are blocks.</summary>
    private static async Task<List<(AddressBlock, IReadOnlyList<int>)>> ExpandAsync(IReadOnlyList<TargetSpec> specs, IReadOnlyList<int> ports, string? dnsServer, CancellationToken ct)
    {
        var list = new List<(AddressBlock, IReadOnlyList<int>)>();
        MxResolver? resolver = null;
        foreach (var spec in specs)
        {
            IReadOnlyList<int> p = spec.Port is { } one ? [one] : ports;
            if (spec.Block is { } b)
            {
                list.Add((b, p));
                continue;
            }
            resolver ??= new MxResolver(dnsServer is null ? null : MxResolver.ParseServer(dnsServer));
            if (spec.Port is not null)
            {
                foreach (var a in await resolver.ResolveAddressesAsync(spec.HostName!, ct).ConfigureAwait(false))
                {
                    list.Add((AddressBlock.Single(a, spec.HostName!, spec.HostName), p));
                }
                continue;
            }
            var mx = await resolver.ResolveAsync(spec.HostName!, ct).ConfigureAwait(false);
            if (mx.Count == 0)
            {
                throw new ArgumentException($"{spec.HostName}: no MX hosts (and no address): nothing to scan");
            }
            foreach (var host in mx)
            {
                foreach (var a in host.Addresses)
                {
                    list.Add((AddressBlock.Single(a, $"{host.Host} (MX of {spec.HostName})", host.Host), p));
                }
            }
        }
        return list;
    }
}
