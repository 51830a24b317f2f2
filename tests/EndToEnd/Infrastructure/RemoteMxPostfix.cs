using System.Diagnostics;
using System.Net.Sockets;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Postfix (Debian's package) acting as another domain's MX on a loopback address, port 25: its
/// own config_directory and queue_directory (a separate instance, as /work/shared/peers/relay-peers.sh
/// runs them), STARTTLS with a self-signed certificate, virtual Maildir delivery for the test domains
/// (remote.test, backup.test, implicit.test; users bob, carol, later), 550 5.1.1 for unknown users and a
/// table of recipients that get 450 4.2.0 until <see cref="ReleaseTemporaryFailures"/>. Nothing it
/// receives leaves the machine (no DNS, relayhost on a dead loopback port). Needs root.
/// </summary>
public sealed class RemoteMxPostfix : IDisposable
{
    public static readonly string[] Domains = ["remote.test", "backup.test", "implicit.test"];
    public static readonly string[] Users = ["bob", "carol", "later"];

    private RemoteMxPostfix(string address, string root)
    {
        Address = address;
        Root = root;
    }

    public string Address { get; }
    public string Root { get; }
    private string Etc => Path.Combine(Root, "etc");
    public string LogFile => Path.Combine(Root, "postfix.log");

    /// <summary>Starts (or restarts from scratch) the instance on <paramref name="address"/>:25.</summary>
    public static RemoteMxPostfix Start(string address, IEnumerable<string>? temporarilyFailing = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "portcullis-remote-mx-" + address);
        var mx = new RemoteMxPostfix(address, root);
        mx.StopIfRunning();
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        foreach (var d in new[] { "etc", "spool", "data", "mail" })
        {
            Directory.CreateDirectory(Path.Combine(root, d));
        }
        Run("chown", "postfix", Path.Combine(root, "data"));
        Run("chown", "nobody:nogroup", Path.Combine(root, "mail"));
        // Postfix refuses inet_interfaces that are not on an interface: give lo a /32 alias (still loopback).
        if (!Run("ip", "-4", "addr", "show", "dev", "lo").Contains($"inet {address}/32 ", StringComparison.Ordinal))
        {
            Run("ip", "addr", "add", address + "/32", "dev", "lo");
        }
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx." + Domains[0],
            "-keyout", Path.Combine(mx.Etc, "key.pem"), "-out", Path.Combine(mx.Etc, "cert.pem"));
        File.WriteAllText(Path.Combine(mx.Etc, "master.cf"), MasterCf);
        File.WriteAllText(Path.Combine(mx.Etc, "main.cf"), $"""
            # written by tests/EndToEnd/Infrastructure/RemoteMxPostfix.cs -- a remote MX on {address}:25
            compatibility_level = 3.7
            queue_directory = {root}/spool
            data_directory = {root}/data
            syslog_name = postfix-remote-mx
            maillog_file_prefixes = /var, /dev/stdout, {root}
            maillog_file = {mx.LogFile}
            myhostname = mx.remote.test
            inet_interfaces = {address}
            inet_protocols = ipv4
            mydestination =
            alias_maps =
            alias_database =
            biff = no
            mynetworks = 127.0.5.254/32
            smtp_dns_support_level = disabled
            relayhost = [127.0.0.1]:9
            smtpd_tls_security_level = may
            smtpd_tls_cert_file = {mx.Etc}/cert.pem
            smtpd_tls_key_file = {mx.Etc}/key.pem
            smtpd_recipient_restrictions = check_recipient_access hash:{mx.Etc}/tempfail, reject_unauth_destination
            virtual_mailbox_domains = {string.Join(", ", Domains)}
            virtual_mailbox_base = {root}/mail
            virtual_mailbox_maps = hash:{mx.Etc}/vmailbox
            virtual_uid_maps = static:65534
            virtual_gid_maps = static:65534
            virtual_minimum_uid = 100
            smtpd_discard_ehlo_keyword_address_maps = hash:{mx.Etc}/nodsn
            """ + "\n");
        File.WriteAllLines(Path.Combine(mx.Etc, "vmailbox"), Domains.SelectMany(d => Users.Select(u => $"{u}@{d} {d}/{u}/")));
        File.WriteAllLines(Path.Combine(mx.Etc, "tempfail"), (temporarilyFailing ?? []).Select(a => $"{a} 450 4.2.0 greylisted, try again later"));
        Run("postmap", "-c", mx.Etc, Path.Combine(mx.Etc, "vmailbox"));
        Run("postmap", "-c", mx.Etc, Path.Combine(mx.Etc, "tempfail"));
        File.WriteAllText(Path.Combine(mx.Etc, "nodsn"), "");
        Run("postmap", "-c", mx.Etc, Path.Combine(mx.Etc, "nodsn"));
        Run("postfix", "-c", mx.Etc, "check");
        Run("postfix", "-c", mx.Etc, "start");
        WaitForPort(address, 25, TimeSpan.FromSeconds(20));
        return mx;
    }

    /// <summary>From now on every recipient in the temporary-failure table is accepted (Postfix rereads a changed table for new connections).</summary>
    public void ReleaseTemporaryFailures()
    {
        File.WriteAllText(Path.Combine(Etc, "tempfail"), "");
        Run("postmap", "-c", Etc, Path.Combine(Etc, "tempfail"));
    }

    /// <summary>
    /// Whether EHLO advertises DSN (RFC 3461) to clients on this machine (a client connecting to the MX's
    /// loopback address comes from that same address): off, the MX is a next hop that does not take DSN
    /// requests. smtpd checks its tables before each new connection, so the change holds for the next one.
    /// </summary>
    public void AdvertiseDsn(bool on)
    {
        File.WriteAllText(Path.Combine(Etc, "nodsn"), on ? "" : $"{Address} dsn\n127.0.0.1 dsn\n");
        Run("postmap", "-c", Etc, Path.Combine(Etc, "nodsn"));
    }

    /// <summary>The files in a user's Maildir new/ (the messages Postfix delivered).</summary>
    public string[] Messages(string address)
    {
        var (user, domain) = (address.Split('@')[0], address.Split('@')[1]);
        var dir = Path.Combine(Root, "mail", domain, user, "new");
        return Directory.Exists(dir) ? Directory.GetFiles(dir) : [];
    }

    public async Task<string[]> WaitForMessagesAsync(string address, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var files = Messages(address);
            if (files.Length >= count || DateTime.UtcNow > deadline)
            {
                return files;
            }
            await Task.Delay(100);
        }
    }

    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    private void StopIfRunning()
    {
        if (File.Exists(Path.Combine(Etc, "main.cf")))
        {
            RunUnchecked("postfix", "-c", Etc, "stop");
        }
    }

    public void Dispose()
    {
        StopIfRunning();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void WaitForPort(string host, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(host, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static string Run(string file, params string[] args)
    {
        var (code, output) = RunUnchecked(file, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {output}");
        }
        return output;
    }

    private static (int Code, string Output) RunUnchecked(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    // Debian's service list with nothing chrooted (a chrooted smtpd needs copies of /etc files).
    private const string MasterCf = """
        smtp      inet  n       -       n       -       -       smtpd
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        tlsmgr    unix  -       -       n       1000?   1       tlsmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        trace     unix  -       -       n       -       0       bounce
        verify    unix  -       -       n       -       1       verify
        flush     unix  n       -       n       1000?   0       flush
        proxymap  unix  -       -       n       -       -       proxymap
        proxywrite unix -       -       n       -       1       proxymap
        smtp      unix  -       -       n       -       -       smtp
        relay     unix  -       -       n       -       -       smtp
        showq     unix  n       -       n       -       -       showq
        error     unix  -       -       n       -       -       error
        retry     unix  -       -       n       -       -       error
        discard   unix  -       -       n       -       -       discard
        local     unix  -       n       n       -       -       local
        virtual   unix  -       n       n       -       -       virtual
        lmtp      unix  -       -       n       -       -       lmtp
        anvil     unix  -       -       n       -       1       anvil
        scache    unix  -       -       n       -       1       scache
        postlog   unix-dgram n  -       n       -       1       postlogd

        """;
}
