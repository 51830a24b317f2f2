using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp;
using Portcullis.Audit.Targets;
using Spectre.Console;

namespace Portcullis.Cli;

/// <summary>`portcullis audit smtp TARGET...`: is this mail server an open relay, and how to fix it (issue 4, docs/audit-smtp.md).</summary>
public static class AuditSmtpCommand
{
    private static readonly Argument<string[]> Targets = new("targets")
    {
        Description = "Mail servers to audit: host, host:port, IP, [IPv6]:port, or a mail domain (all its MX hosts are audited).",
        Arity = ArgumentArity.OneOrMore,
    };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the report as JSON (docs/audit-json.md); standard output then carries only JSON." };
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Show the SMTP transcript of every failing or inconclusive check, and every passing check." };
    private static readonly Option<string> Ports = new("--ports") { Description = "Ports to audit when a target has none: e.g. 25,587,465 (465 = implicit TLS; mark others PORT/tls, e.g. 2465/tls).", DefaultValueFactory = _ => "25" };
    private static readonly Option<string?> CanaryDomain = new("--canary-domain") { Description = "Send relay tests with a unique token to addresses at this domain (its MX must point at --canary-listen). Never resolved by the auditor." };
    private static readonly Option<string?> CanaryListen = new("--canary-listen") { Description = "ADDR:PORT for the built-in canary SMTP receiver that proves relaying (e.g. 0.0.0.0:25)." };
    private static readonly Option<string> CanaryWait = new("--canary-wait") { Description = "Seconds to wait for canary tokens after the relay tests, and for a success notice after its request (ends early when all are in).", DefaultValueFactory = _ => "30" };
    private static readonly Option<string?> Rcpt = new("--rcpt") { Description = "A valid recipient at the target; enables the SMTP smuggling, undeclared 8-bit, long-text-line and NUL-header checks, and with a canary the success-notice reflection check (test messages are delivered to it)." };
    private static readonly Option<string?> Domain = new("--domain") { Description = "A mail domain the target serves, for postmaster@/abuse@/unknown-user probes (default: --rcpt's domain, the domain typed, or the greeting's host name)." };
    private static readonly Option<string> Helo = new("--helo") { Description = "Name to give in EHLO.", DefaultValueFactory = _ => "audit.portcullis.invalid" };
    private static readonly Option<string> Timeout = new("--timeout") { Description = "Seconds to wait for each reply.", DefaultValueFactory = _ => "10" };
    private static readonly Option<string> ConnectTimeout = new("--connect-timeout") { Description = "Seconds to wait for a TCP connection.", DefaultValueFactory = _ => "5" };
    private static readonly Option<string> SmugglingWait = new("--smuggling-wait") { Description = "Seconds to wait for a reply after a bad end-of-data sequence (smtpsmug waits 5).", DefaultValueFactory = _ => "3" };
    private static readonly Option<string> Budget = new("--target-timeout") { Description = "Seconds one target may take in all, canary wait included.", DefaultValueFactory = _ => "90" };
    private static readonly Option<string> Concurrency = new("--concurrency") { Description = "Targets audited at once (one connection at a time per host).", DefaultValueFactory = _ => "4" };
    private static readonly Option<string> Rate = new("--rate") { Description = "New connections per second, all targets together (0 = no limit).", DefaultValueFactory = _ => "20" };
    private static readonly Option<string?> DnsServer = new("--dns-server") { Description = "DNS server for MX, address and reverse (PTR) lookups: ADDR[:PORT] (default: the system's)." };
    private static readonly Option<string?> Bind = new("--bind") { Description = "Local address to connect from (the vantage point)." };

    public static Command Build()
    {
        var cmd = new Command("smtp", """
            Audit mail servers: is it an open relay (proven by a canary delivery, not guessed from a 250), can
            SMTP smuggling or STARTTLS injection be done, does it leak users, and what is the fix for the
            software found. Only audit servers you are authorised to test.
            Exit code: 0 no failed check, 1 a check failed (or open relay), 3 inconclusive, 2 usage or other error.
            Example: portcullis audit smtp mx.example.net --canary-domain canary.example.org --canary-listen 0.0.0.0:25
            """);
        cmd.Arguments.Add(Targets);
        foreach (var o in new Option[] { Json, Verbose, Ports, CanaryDomain, CanaryListen, CanaryWait, Rcpt, Domain, Helo, Timeout, ConnectTimeout, SmugglingWait, Budget, Concurrency, Rate, DnsServer, Bind })
        {
            cmd.Options.Add(o);
        }
        cmd.Action = new RunAction();
        return cmd;
    }

    /// <summary>Runs even when parsing failed, so that every usage error exits with 2 (issue 4), with a clear message.</summary>
    private sealed class RunAction : AsynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override async Task<int> InvokeAsync(ParseResult r, CancellationToken ct)
        {
            if (r.Errors.Count > 0)
            {
                foreach (var e in r.Errors)
                {
                    await Console.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                }
                await Console.Error.WriteLineAsync("Try 'portcullis audit smtp --help'.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            try
            {
                return await RunAsync(r, ct).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                await Console.Error.WriteLineAsync("Try 'portcullis audit smtp --help'.").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is SocketException or InvalidOperationException or IOException)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        }
    }

    private sealed class UsageException(string message) : Exception(message);

    private static double Seconds(ParseResult r, Option<string> o, double min)
    {
        var s = r.GetValue(o)!;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new UsageException($"{o.Name}: '{s}' is not a number of seconds >= {min}");
    }

    private static async Task<int> RunAsync(ParseResult r, CancellationToken ct)
    {
        var json = r.GetValue(Json);
        var verbose = r.GetValue(Verbose);
        void Log(string m) => Console.Error.WriteLine("[audit smtp] " + m);

        IReadOnlyList<int> ports;
        IReadOnlySet<int> implicitTls;
        List<SmtpTargetSpec> specs;
        try
        {
            (ports, implicitTls) = SmtpTargetParser.ParsePorts(r.GetValue(Ports)!);
            specs = r.GetValue(Targets)!.Select(SmtpTargetParser.Parse).ToList();
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        var canaryDomain = r.GetValue(CanaryDomain)?.Trim().TrimEnd('.').ToLowerInvariant();
        var canaryListen = r.GetValue(CanaryListen);
        if ((canaryDomain is null) != (canaryListen is null))
        {
            throw new UsageException("--canary-domain and --canary-listen go together: the domain names where relay tests are sent, the listener receives them");
        }
        if (canaryDomain is not null && (canaryDomain.Length == 0 || !canaryDomain.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')))
        {
            throw new UsageException($"--canary-domain: '{canaryDomain}' is not a domain name");
        }
        IPEndPoint? listenEp = null;
        if (canaryListen is not null && !IPEndPoint.TryParse(canaryListen, out listenEp))
        {
            throw new UsageException($"--canary-listen: '{canaryListen}' is not ADDR:PORT");
        }
        if (listenEp is { Port: 0 })
        {
            throw new UsageException("--canary-listen: give a port (ADDR:PORT), e.g. 0.0.0.0:25");
        }
        var rcpt = r.GetValue(Rcpt);
        if (rcpt is not null && (rcpt.Count(c => c == '@') != 1 || rcpt.Any(c => c is '<' or '>' or ' ' or '\r' or '\n')))
        {
            throw new UsageException($"--rcpt: '{rcpt}' is not a plain address user@domain");
        }
        IPEndPoint? dnsServer = null;
        if (r.GetValue(DnsServer) is { } ds)
        {
            try
            {
                dnsServer = MxResolver.ParseServer(ds);
            }
            catch (FormatException e)
            {
                throw new UsageException("--dns-server: " + e.Message);
            }
        }
        IPAddress? bind = null;
        if (r.GetValue(Bind) is { } b && !IPAddress.TryParse(b, out bind))
        {
            throw new UsageException($"--bind: '{b}' is not an address");
        }
        var concurrency = (int)Seconds(r, Concurrency, 1);
        var rate = Seconds(r, Rate, 0);

        await using var canary = listenEp is null ? null : StartCanary(listenEp);
        if (canary is not null)
        {
            Log($"canary listening on {canary.LocalEndPoint} for mail to *@{canaryDomain}");
        }
        var options = new SmtpAuditOptions
        {
            Ports = ports,
            ImplicitTlsPorts = implicitTls,
            HeloName = r.GetValue(Helo)!,
            Rcpt = rcpt,
            LocalDomain = r.GetValue(Domain),
            CanaryDomain = canaryDomain,
            Canary = canary,
            CanaryWait = TimeSpan.FromSeconds(Seconds(r, CanaryWait, 0)),
            SmugglingWait = TimeSpan.FromSeconds(Seconds(r, SmugglingWait, 0.1)),
            TargetBudget = TimeSpan.FromSeconds(Seconds(r, Budget, 5)),
            Probe = new ProbeOptions
            {
                StepTimeout = TimeSpan.FromSeconds(Seconds(r, Timeout, 0.1)),
                ConnectTimeout = TimeSpan.FromSeconds(Seconds(r, ConnectTimeout, 0.1)),
                LocalAddress = bind,
            },
        };
        var resolver = new MxResolver(dnsServer, TimeSpan.FromSeconds(3));
        options = options with { Dns = resolver, DnsServerGiven = dnsServer is not null };
        var run = new SmtpAuditRun(options, resolver, useSystemResolver: dnsServer is null, concurrency, new ConnectionPacer(rate), Log);
        var hosts = new List<SmtpAuditRun.Resolved>();
        foreach (var spec in specs)
        {
            try
            {
                hosts.AddRange(await run.ResolveAsync(spec, ct).ConfigureAwait(false));
            }
            catch (SocketException e)
            {
                throw new UsageException($"{spec.Host}: cannot resolve ({e.Message})");
            }
        }
        if (hosts.Count == 0)
        {
            throw new UsageException("no mail server to audit (a domain with a null MX or no address?)");
        }
        var reports = await run.AuditAsync(hosts, ct).ConfigureAwait(false);
        if (json)
        {
            ReportWriter.WriteJson(Console.Out, reports);
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            ReportWriter.WriteText(console, reports, verbose);
        }
        return ExitCodes.For(reports);
    }

    private static SmtpCanary StartCanary(IPEndPoint ep)
    {
        try
        {
            return SmtpCanary.Start(ep);
        }
        catch (SocketException e)
        {
            throw new UsageException($"--canary-listen {ep}: cannot listen ({e.Message})");
        }
    }
}
