using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Portcullis.Server.Configuration;

namespace Portcullis.Server.Tls;

/// <summary>
/// The server certificate: the configured PEM pair, or a self-signed one generated on first start under
/// &lt;data_dir&gt;/tls/ (so a fresh install offers STARTTLS at once; replace it with a real one for production).
/// </summary>
public static class CertificateProvider
{
    /// <summary>How long before its end a generated certificate is replaced (at a start).</summary>
    public static readonly TimeSpan RenewSelfSignedBefore = TimeSpan.FromDays(30);

    /// <summary>How long before its end a certificate is reported (a warning at start, by `portcullis check`).</summary>
    public static readonly TimeSpan WarnBefore = TimeSpan.FromDays(14);

    /// <summary>The one wording of "the configured files are not a certificate and its key", naming the settings.</summary>
    public static string NotAPair(string certFile, string keyFile, string why) =>
        $"tls.cert_file and tls.key_file ({certFile}, {keyFile}): not a PEM certificate and its private key: {why}";

    /// <summary>
    /// The configured pair, or the generated one (made on first start, and made anew at a start within 30 days of
    /// its end). Throws <see cref="InvalidOperationException"/> naming the settings when the configured files are not
    /// a PEM certificate and its private key.
    /// </summary>
    public static (X509Certificate2 Certificate, string Source) Load(PortcullisSettings settings)
    {
        if (settings.Tls.CertFile is { } certFile && settings.Tls.KeyFile is { } keyFile)
        {
            try
            {
                return (Reload(X509Certificate2.CreateFromPemFile(certFile, keyFile)), certFile);
            }
            catch (CryptographicException e)
            {
                // A file that is not PEM, or a key that is not the certificate's: name the settings, not a stack trace.
                throw new InvalidOperationException(NotAPair(certFile, keyFile, e.Message), e);
            }
        }
        var dir = Path.Combine(settings.Storage.DataDir, "tls");
        var cert = Path.Combine(dir, "selfsigned.crt");
        var key = Path.Combine(dir, "selfsigned.key");
        if (!File.Exists(cert) || !File.Exists(key) || !UsableSelfSigned(cert, key))
        {
            Generate(settings.Server.Hostname, dir, cert, key);
        }
        return (Reload(X509Certificate2.CreateFromPemFile(cert, key)), cert + " (self-signed)");
    }

    /// <summary>False for a generated pair that is damaged or ends within <see cref="RenewSelfSignedBefore"/>: it is made anew.</summary>
    private static bool UsableSelfSigned(string cert, string key)
    {
        try
        {
            using var c = X509Certificate2.CreateFromPemFile(cert, key);
            return c.NotAfter.ToUniversalTime() - DateTime.UtcNow > RenewSelfSignedBefore;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static void Generate(string hostname, string dir, string certPath, string keyPath)
    {
        System.IO.Directory.CreateDirectory(dir);
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest($"CN={hostname}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var cert = req.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
        // Write the key first with owner-only permissions, then the certificate.
        var tmpKey = keyPath + ".tmp";
        File.WriteAllText(tmpKey, rsa.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmpKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmpKey, keyPath, overwrite: true);
        File.WriteAllText(certPath, cert.ExportCertificatePem());
    }

    // A certificate whose key came from PEM is re-imported as PKCS#12 so SslStream can use the key on every platform.
    private static X509Certificate2 Reload(X509Certificate2 pem)
    {
        using (pem)
        {
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
    }
}
