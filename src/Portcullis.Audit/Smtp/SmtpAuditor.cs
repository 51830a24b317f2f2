using System.Diagnostics;
using System.Net;
using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp.Checks;

namespace Portcullis.Audit.Smtp;

/// <summary>
/// Audits one mail server (one address, the ports asked for): fingerprint, TLS, relay matrix (plain and
/// over STARTTLS), canary proof, enumeration, smuggling and hygiene checks; then the report with a fix for
/// every failure. Connections to the host are strictly one at a time; <paramref name="gate"/> paces new
/// connections (--rate). The whole target stays within <see cref="SmtpAuditOptions.TargetBudget"/>.
/// </summary>
public sealed class SmtpAuditor(SmtpAuditOptions options, Func<CancellationToken, Task> gate, Action<string>? progress = null)
{
    private sealed class PortState
    {
        public required SmtpEndpoint Endpoint { get; init; }
        public List<Finding> Findings { get; } = [];
        public List<RelayOutcome> Relay { get; } = [];
        public bool RelayRan { get; set; }
        /// <summary>Success-notice requests, judged after the canary wait (<see cref="DsnReflectionCheck"/>).</summary>
        public List<(DsnRequest Request, long SentAt)> Dsn { get; } = [];
    }

    /// <param name="typedName">The name (or address) the user gave, or the MX host name.</param>
    /// <param name="address">The address to audit.</param>
    /// <param name="domainHint">The mail domain when the target came from a domain's MX records.</param>
    public async Task<AuditReport> AuditAsync(string typedName, IPAddress address, string? domainHint, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Keep a little of the budget for the canary's last look and the report.
        budget.CancelAfter(options.TargetBudget - TimeSpan.FromSeconds(1));
        var bt = budget.Token;

        SmtpFingerprint? fingerprint = null;
        string? vantage = null;
        var states = new List<PortState>();
        TimeSpan? relayEnd = null;
        var replies = new List<string>();
        (string? Greeting, string? Ehlo)? serverNames = null;

        foreach (var port in options.Ports)
        {
            var ep = new SmtpEndpoint(typedName, address, port, ImplicitTls: options.ImplicitTlsPorts.Contains(port));
            var st = new PortState { Endpoint = ep };
            states.Add(st);
            var opener = new SessionOpener(ep, options.Probe, options.HeloName, gate);
            try
            {
                await AuditPortAsync(st, opener, domainHint, bt, fp => fingerprint ??= fp, v => vantage ??= v, n => serverNames ??= n, replies).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                st.Findings.Add(Finding.Skipped("budget", "Time budget", $"the remaining checks on port {port} were skipped: the target's {options.TargetBudget.TotalSeconds:0} s budget ran out", port));
            }
            if (st.RelayRan)
            {
                relayEnd = clock.Elapsed;
            }
        }

        // Reverse DNS (catalog §4): once per address, against the names the first port's greeting and EHLO gave.
        var reverse = await ReverseDnsAsync(address, serverNames, bt).ConfigureAwait(false);

        // Canary proof: wait for every token whose message the server took, but never past the budget.
        var expected = states.SelectMany(s => s.Relay).Where(o => o.MessageAccepted && o.Vector.Token is not null).Select(o => o.Vector.Token!).ToList();
        if (options.Canary is not null && expected.Count > 0 && relayEnd is { } end)
        {
            var wait = options.CanaryWait - (clock.Elapsed - end);
            var left = options.TargetBudget - clock.Elapsed - TimeSpan.FromMilliseconds(500);
            wait = wait < left ? wait : left;
            if (wait > TimeSpan.Zero)
            {
                progress?.Invoke($"{typedName}: waiting up to {wait.TotalSeconds:0.#} s for {expected.Count} canary tokens");
                await options.Canary.WaitForAsync(expected, wait, ct).ConfigureAwait(false);
            }
        }

        // Success notices are asked for after the relay matrix: each gets the canary wait from its own request.
        var dsn = states.SelectMany(s => s.Dsn).ToList();
        var dsnTokens = dsn.Where(d => d.Request.Outcome == DsnRequestOutcome.Taken).Select(d => d.Request.Token).ToList();
        if (options.Canary is not null && dsnTokens.Count > 0)
        {
            var wait = options.CanaryWait - Stopwatch.GetElapsedTime(dsn.Max(d => d.SentAt));
            var left = options.TargetBudget - clock.Elapsed - TimeSpan.FromMilliseconds(500);
            wait = wait < left ? wait : left;
            if (wait > TimeSpan.Zero)
            {
                progress?.Invoke($"{typedName}: waiting up to {wait.TotalSeconds:0.#} s for success notices at the canary");
                await options.Canary.WaitForAsync(dsnTokens, wait, ct).ConfigureAwait(false);
            }
        }

        // Build checks and the relay verdict over all ports.
        var findings = new List<Finding>();
        if (reverse is not null)
        {
            findings.Add(reverse);
        }
        var verdicts = new List<(Verdict V, string Reason)>();
        RelayFindings.CanaryLookup? lookup = options.Canary is null ? null : tok => (options.Canary.Proven(tok), options.Canary.HitsFor(tok));
        foreach (var st in states)
        {
            findings.AddRange(st.Findings);
            findings.AddRange(st.Dsn.Select(d => DsnReflectionCheck.Judge(d.Request, options.Canary!.HitsFor(d.Request.Token), options.CanaryWait)));
            if (st.RelayRan)
            {
                var r = RelayFindings.Build(st.Relay, lookup, st.Endpoint.Port);
                findings.AddRange(r.Findings);
                verdicts.Add((r.Verdict, (states.Count > 1 ? $"port {st.Endpoint.Port}: " : "") + r.Reason));
            }
        }
        var verdict = verdicts.Count == 0 ? (Verdict.Inconclusive, "no relay test could run (no SMTP session)")
            : verdicts.Any(v => v.V == Verdict.Open) ? (Verdict.Open, string.Join("; ", verdicts.Where(v => v.V == Verdict.Open).Select(v => v.Reason)))
            : verdicts.Any(v => v.V == Verdict.Inconclusive) ? (Verdict.Inconclusive, string.Join("; ", verdicts.Where(v => v.V == Verdict.Inconclusive).Select(v => v.Reason)))
            : (Verdict.Closed, string.Join("; ", verdicts.Select(v => v.Reason)));

        fingerprint ??= new SmtpFingerprint(SmtpSoftware.Unknown, null, "no session");
        if (fingerprint.Software == SmtpSoftware.Unknown && replies.Count > 0)
        {
            fingerprint = SmtpFingerprinter.Identify(null, null, replies);
        }
        var software = fingerprint.Software;
        var target = options.Ports.Count == 1 ? FormatHostPort(typedName, options.Ports[0]) : $"{typedName} (ports {string.Join(",", options.Ports)})";
        return new AuditReport
        {
            Target = target,
            Audit = "smtp",
            Address = address.ToString(),
            Software = fingerprint.Display,
            Verdict = verdict.Item1,
            VerdictReason = verdict.Item2,
            Checks = findings.Select(f => f.ToResult(software)).ToList(),
            VantagePoint = vantage is null ? null : $"{vantage} (a test from inside a trusted network can look open; audit from outside too)",
            StartedAt = started,
            DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
        };
    }

    private async Task<Finding?> ReverseDnsAsync(IPAddress address, (string? Greeting, string? Ehlo)? names, CancellationToken ct)
    {
        var port = options.Ports[0];
        if (options.Dns is null)
        {
            return null;
        }
        if (!options.DnsServerGiven && !ReverseDnsCheck.IsPublic(address))
        {
            return Finding.Skipped(ReverseDnsCheck.Id, "Reverse DNS (PTR, forward-confirmed)", $"{address} is not a public address: its reverse DNS only matters inside your network (give --dns-server to check it against your own DNS)", port);
        }
        try
        {
            return await ReverseDnsCheck.RunAsync(options.Dns, address, names?.Greeting, names?.Ehlo, port, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Finding.Skipped(ReverseDnsCheck.Id, "Reverse DNS (PTR, forward-confirmed)", "skipped: the target's time budget ran out", port);
        }
    }

    private static string FormatHostPort(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";

    private async Task AuditPortAsync(PortState st, SessionOpener opener, string? domainHint, CancellationToken ct, Action<SmtpFingerprint> setFp, Action<string> setVantage, Action<(string?, string?)> setNames, List<string> replies)
    {
        var ep = st.Endpoint;
        var gate = opener.Gate;
        var port = ep.Port;
        var t = new Transcript();
        OpenSession first;
        try
        {
            try
            {
                first = await opener.OpenAsync(t, startTls: false, ct).ConfigureAwait(false);
            }
            catch (ProbeLostException e) when (e.Loss == ProbeLoss.NoGreeting)
            {
                // Silent in clear: a submissions port other than 465 (RFC 8314 §3.3) waits for our TLS
                // ClientHello. Try that once before calling the port not tested; the audit then goes on over TLS.
                var overTls = ep with { ImplicitTls = true };
                var tlsOpener = new SessionOpener(overTls, opener.Options, opener.HeloName, gate);
                t.Note($"no greeting in clear: trying implicit TLS on port {port}");
                try
                {
                    first = await tlsOpener.OpenAsync(t, startTls: false, ct).ConfigureAwait(false);
                }
                catch (ProbeLostException tlsError)
                {
                    throw new ProbeLostException(e.Loss, $"{e.Message} in clear, and implicit TLS did not bring one either ({tlsError.Message})", tlsError);
                }
                progress?.Invoke($"{ep.Display}: silent in clear, speaks implicit TLS: audited over TLS (next time give {port}/tls)");
                (ep, opener) = (overTls, tlsOpener);
                st.Findings.Add(new("tls.implicit", "Implicit TLS detected", CheckStatus.Pass, Severity.Info, $"no greeting in clear; a TLS handshake on port {port} brought the greeting, so the port was audited over TLS (RFC 8314 §3.3)", t.ToString(), null, port));
            }
        }
        catch (ProbeLostException e)
        {
            // Catalog §6.3: connection refused or timeout = "not tested", shown that way, never "closed".
            st.Findings.Add(new("connect", "SMTP session", CheckStatus.Inconclusive, Severity.Info, "not tested: " + e.Message, t.ToString(), null, port));
            return;
        }
        var fp = SmtpFingerprinter.Identify(first.Probe.Greeting.ToString(), first.Ehlo.Reply.ToWire());
        setFp(fp);
        if (first.Probe.LocalEndPoint is { } local)
        {
            setVantage(local.Address.ToString());
        }
        var bannerHost = first.Probe.Greeting.Lines[0].Split(' ', 2)[0];
        setNames((bannerHost, first.Ehlo.HostName));
        var plainEvidence = t.ToString();
        // For an address target, check the certificate against the name the server gives in its greeting.
        if (IPAddress.TryParse(ep.Name, out _) && TargetNames.From(null, bannerHost, null, "").Hosts.Count > 0)
        {
            ep = ep with { TlsServerName = bannerHost };
            opener = new SessionOpener(ep, opener.Options, opener.HeloName, gate);
        }
        st.Findings.Add(HygieneChecks.Banner(ep, first.Probe.Greeting.ToWire().TrimEnd(), fp));
        st.Findings.Add(TlsChecks.StartTlsOffered(ep, first.Ehlo, plainEvidence));
        st.Findings.Add(TlsChecks.AuthBeforeTls(ep, first.Ehlo, plainEvidence));
        var startTls = !ep.ImplicitTls && first.Ehlo.Has("STARTTLS");
        await first.Probe.QuitAsync(ct).ConfigureAwait(false);
        await first.Probe.DisposeAsync().ConfigureAwait(false);
        if (ep.ImplicitTls)
        {
            var ct2 = new Transcript();
            st.Findings.Add(await SessionScope.RunAsync(opener, false, ct2, s => Task.FromResult(TlsChecks.Certificate(s.Probe)),
                e => new Finding("tls.certificate", "TLS certificate", CheckStatus.Inconclusive, Severity.Low, "TLS failed: " + e.Message, ct2.ToString(), null, port), ct).ConfigureAwait(false));
        }

        if (startTls)
        {
            progress?.Invoke($"{ep.Display}: TLS checks");
            var tt = new Transcript();
            st.Findings.Add(await SessionScope.RunAsync(opener, true, tt, s => Task.FromResult(TlsChecks.Certificate(s.Probe)),
                e => new Finding("tls.certificate", "TLS certificate", CheckStatus.Inconclusive, Severity.Low, "STARTTLS failed: " + e.Message, tt.ToString(), null, port), ct).ConfigureAwait(false));
            st.Findings.Add(await TlsChecks.InjectionAsync(opener, ct).ConfigureAwait(false));
        }
        // NTLM information leak (catalog §4): after STARTTLS when offered, where a client would authenticate.
        st.Findings.Add(await NtlmInfoCheck.RunAsync(opener, startTls, ct).ConfigureAwait(false));

        // Relay matrix, in clear and again over STARTTLS when offered (issue 4).
        var names = TargetNames.From(ep.Name, bannerHost, first.Ehlo.HostName, ep.AddressLiteral);
        var runner = new RelayRunner(opener, options.VectorsPerConnection);
        var vectors = RelayVectorGenerator.Generate(names, options.RelayDestination, options.Canary is null ? null : options.Canary.NewToken);
        progress?.Invoke($"{ep.Display}: {vectors.Count} relay vectors (names: {string.Join(", ", names.Hosts.Append(names.AddressLiteral))})");
        st.RelayRan = true;
        st.Relay.AddRange(await runner.RunAsync(vectors, overTls: false, options.Canary is null ? null : options.CanaryDomain, ct).ConfigureAwait(false));
        if (startTls)
        {
            var tlsVectors = RelayVectorGenerator.Generate(names, options.RelayDestination, options.Canary is null ? null : options.Canary.NewToken);
            progress?.Invoke($"{ep.Display}: {tlsVectors.Count} relay vectors over STARTTLS");
            st.Relay.AddRange(await runner.RunAsync(tlsVectors, overTls: true, options.Canary is null ? null : options.CanaryDomain, ct).ConfigureAwait(false));
        }
        replies.AddRange(st.Relay.SelectMany(o => o.Evidence.Split('\n')).Where(l => l.StartsWith("S: ", StringComparison.Ordinal)).Select(l => l[3..]).Distinct().Take(200));

        // Enumeration, backscatter, postmaster/abuse, line handling: on the submission ports inside TLS.
        var hygieneTls = startTls && port != 25;
        var domain = options.LocalDomain
            ?? (options.Rcpt is { } rc && rc.Contains('@', StringComparison.Ordinal) ? rc[(rc.LastIndexOf('@') + 1)..] : null)
            ?? domainHint
            ?? names.Hosts.FirstOrDefault()
            ?? ep.AddressLiteral;
        progress?.Invoke($"{ep.Display}: enumeration and hygiene checks (domain {domain})");
        st.Findings.AddRange(await EnumerationChecks.VrfyExpnAsync(opener, hygieneTls, domain, ct).ConfigureAwait(false));
        var (rcptFindings, catchAll) = await EnumerationChecks.RecipientsAsync(opener, hygieneTls, domain, ct).ConfigureAwait(false);
        st.Findings.AddRange(rcptFindings);
        st.Findings.Add(await EnumerationChecks.RcptEnumerationAsync(opener, hygieneTls, domain, catchAll, ct).ConfigureAwait(false));
        st.Findings.AddRange(await HygieneChecks.LinesAsync(opener, hygieneTls, ct).ConfigureAwait(false));
        st.Findings.Add(await HygieneChecks.HeloSyntaxAsync(opener, ct).ConfigureAwait(false));
        st.Findings.Add(await HygieneChecks.RecipientLimitAsync(opener, hygieneTls, domain, ct).ConfigureAwait(false));
        st.Findings.Add(await HygieneChecks.PipeliningDisciplineAsync(opener, domain, ct).ConfigureAwait(false));
        st.Findings.Add(await HygieneChecks.PathLimitsAsync(opener, hygieneTls, domain, ct).ConfigureAwait(false));

        if (options.Rcpt is { } rcpt)
        {
            progress?.Invoke($"{ep.Display}: SMTP smuggling ({SmugglingSequences.All.Count} end-of-data sequences to {rcpt})");
            st.Findings.AddRange(await SmugglingCheck.RunAsync(opener, hygieneTls, rcpt, options.SmugglingWait, ct).ConfigureAwait(false));
            progress?.Invoke($"{ep.Display}: undeclared 8-bit data to {rcpt}");
            st.Findings.Add(await EightBitCheck.RunAsync(opener, hygieneTls, rcpt, ct).ConfigureAwait(false));
            progress?.Invoke($"{ep.Display}: a 1001-octet text line and a NUL in a header to {rcpt}");
            st.Findings.Add(await LongDataLineCheck.RunAsync(opener, hygieneTls, rcpt, ct).ConfigureAwait(false));
            st.Findings.Add(await HeaderNulCheck.RunAsync(opener, hygieneTls, rcpt, ct).ConfigureAwait(false));
            if (options.Canary is { } canary && options.CanaryDomain is { } canaryDomain)
            {
                progress?.Invoke($"{ep.Display}: a success notice asked for by a canary sender (NOTIFY=SUCCESS to {rcpt})");
                var request = await DsnReflectionCheck.RequestAsync(opener, hygieneTls, rcpt, canaryDomain, canary, ct).ConfigureAwait(false);
                st.Dsn.Add((request, Stopwatch.GetTimestamp()));
            }
            else
            {
                st.Findings.Add(Finding.Skipped(DsnReflectionCheck.Id, DsnReflectionCheck.Title, "needs a canary to receive the notice: --canary-listen ADDR:PORT with --canary-domain", port));
            }
        }
        else
        {
            st.Findings.Add(Finding.Skipped("smuggling", "SMTP smuggling (catalog §2.2)", "needs a valid recipient: --rcpt user@domain", port));
            st.Findings.Add(Finding.Skipped(EightBitCheck.Id, "Undeclared 8-bit data handled consistently", "needs a valid recipient: --rcpt user@domain (two test messages are delivered to it)", port));
            st.Findings.Add(Finding.Skipped(LongDataLineCheck.Id, LongDataLineCheck.Title, "needs a valid recipient: --rcpt user@domain (a test message is delivered to it)", port));
            st.Findings.Add(Finding.Skipped(HeaderNulCheck.Id, HeaderNulCheck.Title, "needs a valid recipient: --rcpt user@domain (a test message is delivered to it)", port));
            st.Findings.Add(Finding.Skipped(DsnReflectionCheck.Id, DsnReflectionCheck.Title, "needs a valid recipient (--rcpt user@domain, a test message is delivered to it) and a canary (--canary-listen, --canary-domain)", port));
        }
    }
}
