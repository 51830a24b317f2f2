using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Configuration;
using Portcullis.Server.Directory;
using Portcullis.Server.Queue;
using Portcullis.Server.Storage;
using Portcullis.Server.Tls;

namespace Portcullis.Cli;

/// <summary>
/// `portcullis check`: what `postfix check` is to Postfix. Reads the configuration as `serve` would and looks at
/// what a start depends on (the data directory, the directory and queue databases, the certificate) without
/// changing anything, so an administrator can run it before a restart, or beside a running server.
/// </summary>
public static class CheckCommand
{
    private enum Level { Ok, Warn, Fail }

    private sealed record Finding(string Subject, Level Level, string Text);

    public static Command Build()
    {
        var config = CommonOptions.ConfigOption();
        var cmd = new Command("check", "Check the configuration and what the server needs to start (data directory, directory and queue databases, TLS certificate) without changing anything. Exit 0: would start; 1: a problem is found; 2: the configuration has an error.")
        {
            config,
        };
        cmd.SetAction(r =>
        {
            var settings = CommonOptions.LoadSettings(r.GetValue(config));
            if (settings is null)
            {
                return CommonOptions.ConfigErrorExitCode;
            }
            var findings = Run(settings);
            foreach (var f in findings)
            {
                Console.WriteLine($"{f.Level.ToString().ToLowerInvariant(),-4}  {f.Subject,-13} {f.Text}");
            }
            return findings.Any(f => f.Level == Level.Fail) ? 1 : 0;
        });
        return cmd;
    }

    private static List<Finding> Run(PortcullisSettings settings)
    {
        var listeners = string.Join(", ", settings.Listeners.Configured.Select(l => $"{l.Key} {l.Endpoint}"));
        var findings = new List<Finding>
        {
            new("configuration", Level.Ok, $"{settings.SourceFile ?? "built-in defaults"}: reads without error (host {settings.Server.Hostname}; {listeners})"),
        };
        findings.AddRange(PrivilegedPorts(settings.Listeners));
        findings.Add(DataDir(settings.Storage.DataDir));
        findings.Add(Database("directory", Path.Combine(settings.Storage.DataDir, SqliteDirectoryStore.FileName), SqliteDirectoryStore.Inspect, DescribeDirectory));
        findings.Add(Database("queue", QueueAdmin.DatabasePath(settings.Storage.DataDir), QueueAdmin.Inspect, DescribeQueue));
        findings.Add(Certificate(settings));
        return findings;
    }

    /// <summary>
    /// A port below net.ipv4.ip_unprivileged_port_start (1024 unless lowered) binds only with CAP_NET_BIND_SERVICE:
    /// root, or a capability given to the process. A warning, not a failure: the server may run as another user
    /// than the one running the check (a systemd unit with AmbientCapabilities=CAP_NET_BIND_SERVICE).
    /// </summary>
    private static IEnumerable<Finding> PrivilegedPorts(ListenersSection l)
    {
        if (!OperatingSystem.IsLinux() || CanBindPrivilegedPorts())
        {
            yield break;
        }
        var start = UnprivilegedPortStart();
        foreach (var (key, endpoint) in l.Configured)
        {
            if (endpoint.Port < start)
            {
                yield return new("listeners", Level.Warn,
                    $"listeners.{key} ({endpoint}): ports below {start} need root or CAP_NET_BIND_SERVICE, which this user lacks: start the server as root (server.user drops to another user after binding) or give it the capability");
            }
        }
    }

    /// <summary>Whether this process holds CAP_NET_BIND_SERVICE (bit 10 of CapEff in /proc/self/status; root has it).</summary>
    private static bool CanBindPrivilegedPorts()
    {
        const int CapNetBindService = 10; // <linux/capability.h>
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(x => x.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var caps)
            && (caps & (1UL << CapNetBindService)) != 0;
    }

    private static int UnprivilegedPortStart()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 1024;
        }
    }

    private static Finding DataDir(string dir)
    {
        if (File.Exists(dir))
        {
            return new("data_dir", Level.Fail, $"{dir}: is a file, not a directory (storage.data_dir)");
        }
        if (!System.IO.Directory.Exists(dir))
        {
            return new("data_dir", Level.Ok, $"{dir}: does not exist yet; the first start makes it");
        }
        var probe = Path.Combine(dir, $".portcullis-check-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return new("data_dir", Level.Ok, $"{dir}: writable");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new("data_dir", Level.Fail, $"{dir}: not writable by this user: {e.Message}");
        }
    }

    /// <summary>An existing database must open and pass SQLite's quick_check; a missing one is made at the first start.</summary>
    private static Finding Database(string subject, string path, Func<string, DatabaseInspection> inspect, Func<DatabaseInspection, (Level Level, string Text)> describe)
    {
        if (!File.Exists(path))
        {
            return new(subject, Level.Ok, $"{path}: not created yet; the first start makes it");
        }
        try
        {
            var found = inspect(path);
            if (!found.Intact)
            {
                return new(subject, Level.Fail, $"{path}: damaged: {found.QuickCheck} (restore it from a backup)");
            }
            var (level, text) = describe(found);
            return new(subject, level, $"{path}: {text}");
        }
        catch (SqliteException e)
        {
            return new(subject, Level.Fail, $"{path}: {e.Message} (restore it from a backup)");
        }
    }

    private static (Level, string) DescribeDirectory(DatabaseInspection d)
    {
        var text = $"ok, {Of(d.Counts["domains"], "domain")}, {Of(d.Counts["users"], "user")}, {Of(d.Counts["aliases"], "alias", "aliases")}";
        return d.Counts["domains"] == 0 ? (Level.Warn, text + "; with no local domain every recipient is refused (portcullis domain add DOMAIN)") : (Level.Ok, text);
    }

    private static (Level, string) DescribeQueue(DatabaseInspection q) =>
        (Level.Ok, $"ok, {Of(q.Counts["messages"], "message")}, {Of(q.Counts["pending"], "recipient")} to deliver");

    private static string Of(long n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";

    private static Finding Certificate(PortcullisSettings settings)
    {
        string cert, key, source;
        if (settings.Tls.CertFile is { } c && settings.Tls.KeyFile is { } k)
        {
            (cert, key, source) = (c, k, "tls.cert_file");
        }
        else
        {
            var dir = Path.Combine(settings.Storage.DataDir, "tls");
            (cert, key, source) = (Path.Combine(dir, "selfsigned.crt"), Path.Combine(dir, "selfsigned.key"), "self-signed");
            if (!File.Exists(cert) || !File.Exists(key))
            {
                return new("tls", Level.Ok, "no tls.cert_file: a self-signed certificate is generated at the first start");
            }
        }
        try
        {
            using var x = X509Certificate2.CreateFromPemFile(cert, key);
            var left = x.NotAfter.ToUniversalTime() - DateTime.UtcNow;
            var text = $"{cert} ({source}): {x.Subject}, ends {x.NotAfter.ToUniversalTime():u} ({Math.Floor(left.TotalDays)} days)";
            if (left <= TimeSpan.Zero)
            {
                return new("tls", source == "self-signed" ? Level.Warn : Level.Fail, text + (source == "self-signed" ? "; the next start makes a new one" : "; ended: renew it"));
            }
            if (left < CertificateProvider.RenewSelfSignedBefore && source == "self-signed")
            {
                return new("tls", Level.Ok, text + "; the next start makes a new one");
            }
            return left < CertificateProvider.WarnBefore ? new("tls", Level.Warn, text + "; renew it soon") : new("tls", Level.Ok, text);
        }
        catch (CryptographicException e)
        {
            return source == "self-signed"
                ? new("tls", Level.Warn, $"{cert}, {key}: damaged ({e.Message}); the next start makes a new one")
                : new("tls", Level.Fail, CertificateProvider.NotAPair(cert, key, e.Message));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new("tls", Level.Fail, $"{cert}, {key}: cannot read: {e.Message}");
        }
    }
}
