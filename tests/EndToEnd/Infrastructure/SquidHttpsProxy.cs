using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Squid (Debian's squid, GnuTLS build) speaking TLS on its proxy ports (https_port) with a fresh
/// self-signed certificate: open on 127.0.6.10:8443 (any client, loopback destinations only) and closed on
/// 127.0.6.11:8443 (403 to everyone). It runs in the foreground (-N) as this test's child and is stopped
/// when disposed. Containment as in ../shared/peers/proxy-peers.sh: loopback listeners, loopback
/// destinations, outgoing address 127.0.0.1.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SquidHttpsProxy : IAsyncDisposable
{
    public const string OpenAddress = "127.0.6.10";
    public const string ClosedAddress = "127.0.6.11";
    public const int Port = 8443;

    private readonly Process _squid;
    private readonly string _dir;

    private SquidHttpsProxy(Process squid, string dir)
    {
        _squid = squid;
        _dir = dir;
    }

    public static async Task<SquidHttpsProxy> StartAsync()
    {
        var squidPath = new[] { "/usr/sbin/squid", "/usr/bin/squid" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("squid is not installed (tests/deps/audit-proxy.txt lists it; run scripts/install-test-deps.sh)");
        var dir = Directory.CreateTempSubdirectory("portcullis-squid-https-").FullName;
        // Squid drops to the proxy user: it must be able to read the key and write its log here.
        File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=portcullis-test-squid", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(Path.Combine(dir, "cert.pem"), cert.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        }
        foreach (var f in new[] { "cert.pem", "key.pem" })
        {
            File.SetUnixFileMode(Path.Combine(dir, f), (UnixFileMode)0x1A4);
        }
        var conf = Path.Combine(dir, "squid.conf");
        await File.WriteAllTextAsync(conf, $"""
            https_port {OpenAddress}:{Port} tls-cert={dir}/cert.pem tls-key={dir}/key.pem name=open
            https_port {ClosedAddress}:{Port} tls-cert={dir}/cert.pem tls-key={dir}/key.pem name=closed
            visible_hostname portcullis-test-squid
            cache_effective_user proxy
            pid_filename none
            cache_log {dir}/cache.log
            access_log stdio:{dir}/access.log squid
            cache_store_log none
            coredump_dir {dir}
            netdb_filename none
            cache deny all
            cache_mem 8 MB
            pinger_enable off
            icp_port 0
            htcp_port 0
            shutdown_lifetime 0 seconds
            dns_nameservers 127.0.0.1
            tcp_outgoing_address 127.0.0.1
            acl p_open myportname open
            acl loopback_dst dst 127.0.0.0/8
            http_access allow p_open loopback_dst
            http_access deny all
            """);
        var psi = new ProcessStartInfo(squidPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-N", "-f", conf })
        {
            psi.ArgumentList.Add(a);
        }
        var squid = Process.Start(psi)!;
        squid.BeginErrorReadLine();
        squid.BeginOutputReadLine();
        var proxy = new SquidHttpsProxy(squid, dir);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (squid.HasExited)
            {
                var log = File.Exists(Path.Combine(dir, "cache.log")) ? await File.ReadAllTextAsync(Path.Combine(dir, "cache.log")) : "";
                throw new InvalidOperationException($"squid exited with {squid.ExitCode} at start:\n{log}");
            }
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(OpenAddress, Port);
                using var d = new TcpClient();
                await d.ConnectAsync(ClosedAddress, Port);
                return proxy;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_squid.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _squid.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term!.WaitForExitAsync();
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _squid.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _squid.Kill(entireProcessTree: true);
                await _squid.WaitForExitAsync();
            }
        }
        _squid.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
