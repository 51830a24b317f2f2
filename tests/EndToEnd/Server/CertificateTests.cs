using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Server;

/// <summary>The server certificate: configured files that are not a certificate and its key, expiry, and the generated one's renewal.</summary>
public sealed class CertificateTests
{
    /// <summary>Writes a self-signed certificate for CN=<paramref name="name"/> and its key as PEM files; returns (cert, key).</summary>
    private static (string Cert, string Key) WritePair(string dir, string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        Directory.CreateDirectory(dir);
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(notBefore, notAfter);
        var (certPath, keyPath) = (Path.Combine(dir, name + ".crt"), Path.Combine(dir, name + ".key"));
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    private static async Task<X509Certificate2> PresentedCertificateAsync(ServerInstance server)
    {
        await using var c = await server.ConnectAsync();
        await c.CommandAsync("EHLO client.example.net");
        Assert.Equal(220, (await c.CommandAsync("STARTTLS")).Code);
        await c.StartTlsHandshakeAsync("mx.example.test");
        return c.ServerCertificate ?? throw new InvalidOperationException("no certificate presented");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("mismatched-key")]
    public async Task A_configured_certificate_that_does_not_load_stops_the_start_with_one_line_naming_the_settings(string kind)
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-cert-" + Guid.NewGuid().ToString("N"));
        try
        {
            var now = DateTimeOffset.UtcNow;
            var a = WritePair(dir, "a", now.AddDays(-1), now.AddYears(1));
            var b = WritePair(dir, "b", now.AddDays(-1), now.AddYears(1));
            var (cert, key) = kind == "garbage" ? (Path.Combine(dir, "junk.pem"), Path.Combine(dir, "junk.pem")) : (a.Cert, b.Key);
            File.WriteAllText(Path.Combine(dir, "junk.pem"), "this is not PEM\n");
            var config = Path.Combine(dir, "portcullis.toml");
            File.WriteAllText(config, $"[server]\nhostname = \"mx.example.test\"\n[storage]\ndata_dir = \"data\"\n[listeners]\nmx = \"127.0.4.70:2525\"\n[tls]\ncert_file = \"{cert}\"\nkey_file = \"{key}\"\n");
            var (code, _, stderr) = await PortcullisProcess.RunAsync(["serve", "--config", config]);
            Assert.Equal(1, code);
            Assert.Contains($"cannot start: tls.cert_file and tls.key_file ({cert}, {key}): not a PEM certificate and its private key", stderr);
            Assert.DoesNotContain("   at ", stderr); // no stack trace
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_configured_certificate_near_its_end_is_used_and_logged_as_a_warning()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-cert-" + Guid.NewGuid().ToString("N"));
        try
        {
            var now = DateTimeOffset.UtcNow;
            var (cert, key) = WritePair(dir, "soon", now.AddDays(-80), now.AddDays(5));
            await using var server = await ServerInstance.StartAsync($"[tls]\ncert_file = \"{cert}\"\nkey_file = \"{key}\"\n");
            Assert.True(await server.WaitForLogAsync($"TLS certificate {cert} expires in "), server.ServerLog);
            Assert.Equal("CN=soon", (await PresentedCertificateAsync(server)).Subject);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_generated_certificate_near_its_end_is_made_anew_at_the_next_start()
    {
        await using var server = await ServerInstance.StartAsync();
        var tls = Path.Combine(server.DataDir, "tls");
        Assert.True(File.Exists(Path.Combine(tls, "selfsigned.crt")), server.ServerLog);
        var now = DateTimeOffset.UtcNow;
        await server.CrashAndRestartAsync(() =>
        {
            // What a server started two years ago would find: its generated pair ends in ten days.
            var old = WritePair(tls, "old", now.AddYears(-2), now.AddDays(10));
            File.Move(old.Cert, Path.Combine(tls, "selfsigned.crt"), overwrite: true);
            File.Move(old.Key, Path.Combine(tls, "selfsigned.key"), overwrite: true);
        });
        var presented = await PresentedCertificateAsync(server);
        Assert.Equal("CN=mx.example.test", presented.Subject);
        Assert.True(presented.NotAfter.ToUniversalTime() > now.AddYears(1).UtcDateTime, presented.NotAfter.ToString("u"));
        Assert.DoesNotContain("expires in", server.ServerLog);
    }
}
