using Portcullis.Audit.Canary;
using Portcullis.Audit.Targets;

namespace Portcullis.Audit.Smtp;

/// <summary>Everything that shapes one `audit smtp` run.</summary>
public sealed record SmtpAuditOptions
{
    public IReadOnlyList<int> Ports { get; init; } = [25];
    /// <summary>Ports where TLS starts at once (RFC 8314): 465, and any port given as PORT/tls.</summary>
    public IReadOnlySet<int> ImplicitTlsPorts { get; init; } = new HashSet<int> { 465 };
    /// <summary>The name the auditor gives in EHLO.</summary>
    public string HeloName { get; init; } = "audit.portcullis.invalid";
    /// <summary>A valid recipient at the target (needed by the smuggling check, catalog §2.3).</summary>
    public string? Rcpt { get; init; }
    /// <summary>A domain the target serves (postmaster@, abuse@, unknown-user probes). Default: --rcpt's domain, the domain typed, or the greeting's host name.</summary>
    public string? LocalDomain { get; init; }
    /// <summary>Canary domain: relay tests send DATA to addresses there (never resolved by the auditor).</summary>
    public string? CanaryDomain { get; init; }
    public SmtpCanary? Canary { get; init; }
    public TimeSpan CanaryWait { get; init; } = TimeSpan.FromSeconds(30);
    public ProbeOptions Probe { get; init; } = new();
    /// <summary>smtpsmug waits 5 s for a reply after the bad end-of-data; 3 s keeps a target within its budget.</summary>
    public TimeSpan SmugglingWait { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Issue 4: one target finishes within 90 s by default, canary wait included.</summary>
    public TimeSpan TargetBudget { get; init; } = TimeSpan.FromSeconds(90);
    public int VectorsPerConnection { get; init; } = 8;
    /// <summary>The resolver for the reverse DNS check (the same one as MX lookups); null skips the check.</summary>
    public MxResolver? Dns { get; init; }
    /// <summary>True when the user named the resolver (--dns-server): then private and loopback addresses get the reverse DNS check too.</summary>
    public bool DnsServerGiven { get; init; }

    /// <summary>The relay destination domain: the canary's, or a reserved name that can never route anywhere.</summary>
    public string RelayDestination => CanaryDomain ?? NonRoutableDestination;

    /// <summary>
    /// RFC 2606 / RFC 6761: ".invalid" can never resolve, so even a server that relays cannot deliver a test
    /// message to anyone (unlike nmap's default, nmap.scanme.org, a real domain).
    /// </summary>
    public const string NonRoutableDestination = "relay-test.invalid";
}
