using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Portcullis.Server.Configuration;

namespace Portcullis.Configuration;

/// <summary>
/// Reads the configuration: built-in defaults, then the TOML file, then PORTCULLIS__SECTION__KEY
/// environment variables (the .NET convention; they override the file). Every value is validated here,
/// and a bad one stops the program with one line naming the key (<see cref="ConfigException"/>).
/// </summary>
public static class ConfigLoader
{
    public const string DefaultFileName = "portcullis.toml";
    public const string EnvironmentPrefix = "PORTCULLIS__";

    /// <summary>Every key the program knows, as written in the TOML file. Anything else is a typo and is refused.</summary>
    public static readonly IReadOnlySet<string> KnownKeys = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "server:hostname", "server:postmaster", "server:user",
        "storage:data_dir",
        "listeners:mx", "listeners:submission", "listeners:submissions", "listeners:metrics",
        "tls:cert_file", "tls:key_file",
        "limits:max_message_size", "limits:max_recipients", "limits:max_errors",
        "limits:max_connections", "limits:max_connections_per_client",
        "limits:command_timeout", "limits:data_timeout", "limits:stress_timeout",
        "relay:trusted_networks",
        "delivery:relay_host", "delivery:relay_tls", "delivery:relay_username", "delivery:relay_password",
        "delivery:dns_servers", "delivery:mx_port", "delivery:retry_initial", "delivery:retry_max", "delivery:lifetime", "delivery:concurrency",
        "submission:messages_per_hour", "submission:recipients_per_hour",
        "log:level",
    };

    /// <summary>
    /// Loads settings. <paramref name="path"/> null means ./portcullis.toml when it exists, else the built-in defaults.
    /// Relative paths in the file (data_dir, cert_file, key_file) are relative to the file's directory.
    /// </summary>
    public static PortcullisSettings Load(string? path, IDictionary<string, string?>? environment = null)
    {
        string? file = null;
        if (path is not null)
        {
            file = Path.GetFullPath(path);
            if (!File.Exists(file))
            {
                throw new ConfigException("--config", $"file not found: {file}");
            }
        }
        else if (File.Exists(DefaultFileName))
        {
            file = Path.GetFullPath(DefaultFileName);
        }

        var builder = new ConfigurationBuilder();
        if (file is not null)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException("--config", $"cannot read {file}: {e.Message}");
            }
            builder.AddInMemoryCollection(TomlFlattener.Flatten(text, file));
        }
        if (environment is null)
        {
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        }
        else
        {
            builder.AddInMemoryCollection(environment
                .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        }
        var config = builder.Build();
        var baseDir = file is not null ? Path.GetDirectoryName(file)! : Directory.GetCurrentDirectory();
        return Bind(config, baseDir, file);
    }

    private static PortcullisSettings Bind(IConfiguration c, string baseDir, string? file)
    {
        foreach (var kv in c.AsEnumerable())
        {
            if (kv.Value is not null && !KnownKeys.Contains(kv.Key))
            {
                throw new ConfigException(Display(kv.Key), "unknown setting (see the example portcullis.toml for every key)");
            }
        }

        var hostname = Get(c, "server:hostname") ?? DefaultHostname();
        if (!Validation.IsDomainName(hostname))
        {
            throw new ConfigException("server.hostname", $"'{hostname}' is not a valid host name");
        }
        var postmaster = Get(c, "server:postmaster") ?? "postmaster@" + hostname;
        if (!Validation.IsMailAddress(postmaster))
        {
            throw new ConfigException("server.postmaster", $"'{postmaster}' is not a mail address (user@domain)");
        }

        var dataDir = Path.GetFullPath(Get(c, "storage:data_dir") ?? "data", baseDir);

        var listeners = new ListenersSection
        {
            Mx = Endpoint(c, "listeners:mx", "127.0.0.1:2525"),
            Submission = Endpoint(c, "listeners:submission", null),
            Submissions = Endpoint(c, "listeners:submissions", null),
            Metrics = Endpoint(c, "listeners:metrics", null),
        };
        if (listeners.Mx is null && listeners.Submission is null && listeners.Submissions is null)
        {
            throw new ConfigException("listeners", "no listener is configured (set listeners.mx, listeners.submission or listeners.submissions)");
        }
        if (listeners.Metrics is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6)
        {
            // System.Net.HttpListener on Linux parses no IPv6 literal in its prefix ("Invalid port in prefix").
            throw new ConfigException("listeners.metrics", $"'{v6}': the metrics endpoint takes an IPv4 ADDRESS:PORT (e.g. 127.0.0.1:9464)");
        }
        foreach (var (name, smtp) in listeners.Configured.Where(l => l.Key != "metrics"))
        {
            if (listeners.Metrics is { } m && smtp.Port == m.Port && (smtp.Address.Equals(m.Address) || IsWildcard(smtp.Address) || IsWildcard(m.Address)))
            {
                throw new ConfigException("listeners.metrics", $"'{m}' is also listeners.{name}: give the metrics endpoint a port of its own");
            }
        }

        var certFile = PathOrNull(c, "tls:cert_file", baseDir);
        var keyFile = PathOrNull(c, "tls:key_file", baseDir);
        if ((certFile is null) != (keyFile is null))
        {
            throw new ConfigException(certFile is null ? "tls.cert_file" : "tls.key_file", "tls.cert_file and tls.key_file must be set together");
        }
        foreach (var (k, f) in new[] { ("tls.cert_file", certFile), ("tls.key_file", keyFile) })
        {
            if (f is not null && !File.Exists(f))
            {
                throw new ConfigException(k, $"file not found: {f}");
            }
        }

        var limits = new LimitsSection
        {
            MaxMessageSize = Long(c, "limits:max_message_size", 25L * 1024 * 1024, 1024, 1L << 36),
            MaxRecipients = (int)Long(c, "limits:max_recipients", 100, 100, 100_000),
            MaxErrors = (int)Long(c, "limits:max_errors", 10, 1, 1000),
            MaxConnections = (int)Long(c, "limits:max_connections", 500, 1, 1_000_000),
            MaxConnectionsPerClient = (int)Long(c, "limits:max_connections_per_client", 50, 1, 1_000_000),
            CommandTimeout = Duration(c, "limits:command_timeout", TimeSpan.FromMinutes(5)),
            DataTimeout = Duration(c, "limits:data_timeout", TimeSpan.FromMinutes(3)),
            StressTimeout = Duration(c, "limits:stress_timeout", TimeSpan.FromSeconds(10)),
        };

        var trusted = new List<IpNetwork>();
        foreach (var item in (Get(c, "relay:trusted_networks") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var net = ParseNetwork(item) ?? throw new ConfigException("relay.trusted_networks", $"'{item}' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)");
            var problem = TrustedNetworkRule.Problem(net);
            if (problem is not null)
            {
                throw new ConfigException("relay.trusted_networks", problem);
            }
            trusted.Add(net);
        }

        var relayTls = (Get(c, "delivery:relay_tls") ?? "starttls").ToLowerInvariant();
        if (relayTls is not ("starttls" or "implicit" or "none"))
        {
            throw new ConfigException("delivery.relay_tls", $"'{relayTls}' must be starttls, implicit or none");
        }
        var relayHost = Get(c, "delivery:relay_host");
        if (relayHost is not null && !HostPort.TryParse(relayHost, 25, out _, out _))
        {
            throw new ConfigException("delivery.relay_host", $"'{relayHost}' is not HOST[:PORT]");
        }
        var dnsServers = new List<IPEndPoint>();
        foreach (var item in (Get(c, "delivery:dns_servers") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IPEndPoint? ep = null;
            if (IPAddress.TryParse(item, out var bare))
            {
                ep = new IPEndPoint(bare, 53);
            }
            else if (IPEndPoint.TryParse(item, out var withPort) && withPort.Port != 0)
            {
                ep = withPort;
            }
            dnsServers.Add(ep ?? throw new ConfigException("delivery.dns_servers", $"'{item}' is not ADDRESS[:PORT]"));
        }
        var delivery = new DeliverySection
        {
            RelayHost = relayHost,
            RelayTls = relayTls,
            RelayUsername = Get(c, "delivery:relay_username"),
            RelayPassword = Get(c, "delivery:relay_password"),
            DnsServers = dnsServers,
            MxPort = (int)Long(c, "delivery:mx_port", 25, 1, 65535),
            RetryInitial = Duration(c, "delivery:retry_initial", TimeSpan.FromMinutes(5)),
            RetryMax = Duration(c, "delivery:retry_max", TimeSpan.FromHours(4)),
            Lifetime = Duration(c, "delivery:lifetime", TimeSpan.FromDays(5)),
            Concurrency = (int)Long(c, "delivery:concurrency", 20, 1, 1000),
        };
        if (delivery.RetryMax < delivery.RetryInitial)
        {
            throw new ConfigException("delivery.retry_max", $"must not be shorter than delivery.retry_initial ({delivery.RetryInitial})");
        }
        var submission = new SubmissionSection
        {
            MessagesPerHour = (int)Long(c, "submission:messages_per_hour", 200, 1, 10_000_000),
            RecipientsPerHour = (int)Long(c, "submission:recipients_per_hour", 1000, 1, 100_000_000),
        };

        var levelText = (Get(c, "log:level") ?? "information").ToLowerInvariant();
        var level = levelText switch
        {
            "trace" => Microsoft.Extensions.Logging.LogLevel.Trace,
            "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
            "information" or "info" => Microsoft.Extensions.Logging.LogLevel.Information,
            "warning" or "warn" => Microsoft.Extensions.Logging.LogLevel.Warning,
            "error" => Microsoft.Extensions.Logging.LogLevel.Error,
            _ => throw new ConfigException("log.level", $"'{levelText}' must be trace, debug, information, warning or error"),
        };

        var user = Get(c, "server:user");
        return new PortcullisSettings
        {
            Server = new ServerSection { Hostname = hostname.ToLowerInvariant(), Postmaster = postmaster.ToLowerInvariant(), User = string.IsNullOrWhiteSpace(user) ? null : user },
            Storage = new StorageSection { DataDir = dataDir },
            Listeners = listeners,
            Tls = new TlsSection { CertFile = certFile, KeyFile = keyFile },
            Limits = limits,
            Relay = new RelaySection { TrustedNetworks = trusted },
            Delivery = delivery,
            LogLevel = level,
            Submission = submission,
            SourceFile = file,
        };
    }

    private static string? Get(IConfiguration c, string key)
    {
        var v = c[key];
        return string.IsNullOrWhiteSpace(v) ? null : v.Trim();
    }

    private static string Display(string key) => key.Replace(':', '.').ToLowerInvariant();

    private static string DefaultHostname()
    {
        var h = Dns.GetHostName().ToLowerInvariant();
        return Validation.IsDomainName(h) ? h : "localhost";
    }

    private static string? PathOrNull(IConfiguration c, string key, string baseDir)
    {
        var v = Get(c, key);
        return v is null ? null : Path.GetFullPath(v, baseDir);
    }

    private static bool IsWildcard(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);

    private static IPEndPoint? Endpoint(IConfiguration c, string key, string? fallback)
    {
        var raw = c[key];
        var v = raw is null ? fallback : raw.Trim();
        if (string.IsNullOrEmpty(v) || v.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!IPEndPoint.TryParse(v, out var ep) || ep.Port == 0 || !v.Contains(':', StringComparison.Ordinal) || (v.StartsWith('[') == false && ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            throw new ConfigException(Display(key), $"'{v}' is not ADDRESS:PORT (e.g. 127.0.0.1:2525 or [::1]:2525)");
        }
        return ep;
    }

    private static long Long(IConfiguration c, string key, long fallback, long min, long max)
    {
        var v = Get(c, key);
        if (v is null)
        {
            return fallback;
        }
        if (!long.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new ConfigException(Display(key), $"'{v}' must be a whole number from {min} to {max}");
        }
        return n;
    }

    /// <summary>Durations are "30s", "5m", "1h", "5d" or a number of seconds.</summary>
    internal static TimeSpan Duration(IConfiguration c, string key, TimeSpan fallback)
    {
        var v = Get(c, key);
        if (v is null)
        {
            return fallback;
        }
        return ParseDuration(v) ?? throw new ConfigException(Display(key), $"'{v}' is not a duration (e.g. 30s, 5m, 1h)");
    }

    public static TimeSpan? ParseDuration(string v)
    {
        var unit = v[^1];
        var number = char.IsAsciiDigit(unit) ? v : v[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 1e7)
        {
            return null;
        }
        return unit switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            's' => TimeSpan.FromSeconds(n),
            _ when char.IsAsciiDigit(unit) => TimeSpan.FromSeconds(n),
            _ => null,
        };
    }

    public static IpNetwork? ParseNetwork(string s)
    {
        var slash = s.IndexOf('/');
        var addrText = slash < 0 ? s : s[..slash];
        if (!IPAddress.TryParse(addrText, out var addr))
        {
            return null;
        }
        var max = addr.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var len = max;
        if (slash >= 0 && (!int.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out len) || len < 0 || len > max))
        {
            return null;
        }
        try
        {
            var net = new IPNetwork(addr, len);
            return new IpNetwork(net.BaseAddress, len);
        }
        catch (ArgumentException)
        {
            // The address has bits set beyond the prefix: normalise it to the network address.
            return new IpNetwork(IPNetwork.Parse(s).BaseAddress, len);
        }
    }
}
