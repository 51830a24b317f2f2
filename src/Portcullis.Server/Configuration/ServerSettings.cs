using System.Net;

namespace Portcullis.Server.Configuration;

/// <summary>Everything `portcullis serve` and the directory commands read from portcullis.toml and PORTCULLIS__* variables.</summary>
public sealed record PortcullisSettings
{
    public required ServerSection Server { get; init; }
    public required StorageSection Storage { get; init; }
    public required ListenersSection Listeners { get; init; }
    public required TlsSection Tls { get; init; }
    public required LimitsSection Limits { get; init; }
    public required RelaySection Relay { get; init; }
    public DeliverySection Delivery { get; init; } = new();
    public SubmissionSection Submission { get; init; } = new();
    /// <summary>Lowest log level written: trace, debug, information, warning, error.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;
    /// <summary>The file the settings came from, if any (for messages).</summary>
    public string? SourceFile { get; init; }
}

public sealed record ServerSection
{
    /// <summary>The name this server gives in its greeting, EHLO reply and Received headers.</summary>
    public required string Hostname { get; init; }
    /// <summary>Receives postmaster@ and abuse@ of every local domain that has no such user (RFC 5321 §4.5.1, RFC 2142).</summary>
    public required string Postmaster { get; init; }
    /// <summary>User to switch to after binding the listeners; null keeps the current user.</summary>
    public string? User { get; init; }
}

public sealed record StorageSection
{
    /// <summary>Absolute path of the data directory (queue, directory database, mailboxes, generated certificate).</summary>
    public required string DataDir { get; init; }
}

public sealed record ListenersSection
{
    /// <summary>Inbound MX (port 25 in production). Null disables it.</summary>
    public IPEndPoint? Mx { get; init; }
    /// <summary>Submission with STARTTLS (RFC 6409, port 587).</summary>
    public IPEndPoint? Submission { get; init; }
    /// <summary>Submission with implicit TLS (RFC 8314, port 465).</summary>
    public IPEndPoint? Submissions { get; init; }
    /// <summary>HTTP endpoint serving Prometheus metrics at /metrics; null (the default) serves none.</summary>
    public IPEndPoint? Metrics { get; init; }

    /// <summary>The listeners that are set, each with its key in the [listeners] section (mx, submission, submissions, metrics).</summary>
    public IEnumerable<(string Key, IPEndPoint Endpoint)> Configured =>
        new[] { ("mx", Mx), ("submission", Submission), ("submissions", Submissions), ("metrics", Metrics) }
            .Where(l => l.Item2 is not null).Select(l => (l.Item1, l.Item2!));
}

public sealed record TlsSection
{
    /// <summary>PEM certificate chain; null means a self-signed certificate generated under the data directory.</summary>
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
}

public sealed record LimitsSection
{
    /// <summary>Largest message accepted, in octets, announced in the SIZE extension (RFC 1870).</summary>
    public long MaxMessageSize { get; init; } = 25 * 1024 * 1024;
    /// <summary>RFC 5321 §4.5.3.1.8: at least 100 must be accepted.</summary>
    public int MaxRecipients { get; init; } = 100;
    /// <summary>Refused commands or recipients in one session before 421 and close (slows address harvesting).</summary>
    public int MaxErrors { get; init; } = 10;
    public int MaxConnections { get; init; } = 500;
    public int MaxConnectionsPerClient { get; init; } = 50;
    /// <summary>RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>RFC 5321 §4.5.3.2.5-6: 3 minutes per data block; the whole DATA phase is bounded by 10 minutes of idle.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>
    /// Under a connection flood (a listener at 80% of <see cref="MaxConnections"/>), the longest a client may keep
    /// the server waiting before it is disconnected with 421 4.4.2; Postfix's stress-adaptive smtpd_timeout (10s).
    /// A message must also arrive at 500 octets/s on average beyond this grace (SmtpSession.MinDataRateUnderStress).
    /// </summary>
    public TimeSpan StressTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

public sealed record RelaySection
{
    /// <summary>Networks that may relay without authentication on the submission listeners only. Empty by default.</summary>
    public IReadOnlyList<IpNetwork> TrustedNetworks { get; init; } = [];
}

/// <summary>An IP network in CIDR form.</summary>
public readonly record struct IpNetwork(IPAddress Prefix, int PrefixLength)
{
    public bool Contains(IPAddress address)
    {
        var net = new IPNetwork(Prefix, PrefixLength);
        if (address.IsIPv4MappedToIPv6 && Prefix.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address = address.MapToIPv4();
        }
        return net.Contains(address);
    }

    public override string ToString() => $"{Prefix}/{PrefixLength}";
}

/// <summary>How mail for other domains leaves (issue 3).</summary>
public sealed record DeliverySection
{
    /// <summary>Smarthost: send everything for other domains through this host instead of their MX ("host:port"); null = direct MX delivery.</summary>
    public string? RelayHost { get; init; }
    /// <summary>TLS towards the smarthost: "starttls" (required), "implicit" (port 465 style) or "none".</summary>
    public string RelayTls { get; init; } = "starttls";
    public string? RelayUsername { get; init; }
    public string? RelayPassword { get; init; }
    /// <summary>DNS resolvers (ADDRESS[:PORT], port 53 by default); empty = the system's.</summary>
    public IReadOnlyList<IPEndPoint> DnsServers { get; init; } = [];
    /// <summary>Port of remote MX hosts (25; other values only for tests and special networks).</summary>
    public int MxPort { get; init; } = 25;
    /// <summary>First retry after a temporary failure; later retries back off exponentially up to <see cref="RetryMax"/>.</summary>
    public TimeSpan RetryInitial { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromHours(4);
    /// <summary>How long a message may stay queued before it bounces (RFC 5321 §4.5.4.1 suggests 4-5 days).</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromDays(5);
    /// <summary>Remote destinations delivered to at once.</summary>
    public int Concurrency { get; init; } = 20;
}

/// <summary>Limits for authenticated users on the submission listeners (a stolen password must not become a spam cannon).</summary>
public sealed record SubmissionSection
{
    public int MessagesPerHour { get; init; } = 200;
    public int RecipientsPerHour { get; init; } = 1000;
}
