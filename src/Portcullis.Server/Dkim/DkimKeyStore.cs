using System.Text;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Portcullis.Server.Directory;

namespace Portcullis.Server.Dkim;

/// <summary>A DKIM key of one domain and selector, with what DNS must publish for it.</summary>
public sealed record DkimKey(string Domain, string Selector, DkimSignatureAlgorithm Algorithm, AsymmetricKeyParameter PrivateKey, string PublicKeyBase64, string Path, DateTime CreatedUtc)
{
    /// <summary>The DNS name of the key record (RFC 6376 §3.6.2.1).</summary>
    public string RecordName => $"{Selector}._domainkey.{Domain}";

    /// <summary>The TXT record value (RFC 6376 §3.6.1; k=ed25519 from RFC 8463).</summary>
    public string RecordValue => $"v=DKIM1; k={(Algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? "ed25519" : "rsa")}; p={PublicKeyBase64}";

    /// <summary>
    /// The record as a zone-file line. A TXT string holds at most 255 octets (RFC 1035 §3.3.14), so a
    /// 2048-bit RSA key is split into several strings, which DKIM verifiers concatenate (RFC 6376 §3.6.2.2).
    /// </summary>
    public string ZoneLine()
    {
        var value = RecordValue;
        var parts = new List<string>();
        for (var i = 0; i < value.Length; i += 250)
        {
            parts.Add("\"" + value.Substring(i, Math.Min(250, value.Length - i)) + "\"");
        }
        return $"{RecordName}. IN TXT {string.Join(' ', parts)}";
    }
}

/// <summary>
/// DKIM private keys under &lt;data_dir&gt;/dkim/DOMAIN/SELECTOR.key (PKCS#8 PEM, mode 0600, directories
/// 0700). Generated keys are rsa-sha256 with 2048 bits (RFC 8301: at least 1024, 2048 recommended) or
/// ed25519-sha256 (RFC 8463; MimeKit's DkimSigner supports DkimSignatureAlgorithm.Ed25519Sha256).
/// </summary>
public sealed class DkimKeyStore(string dataDir)
{
    public const string DefaultSelector = "portcullis";
    private const string Extension = ".key";

    public string Root { get; } = System.IO.Path.Combine(dataDir, "dkim");

    public DkimKey Generate(string domain, string selector, DkimSignatureAlgorithm algorithm)
    {
        domain = NormalizeDomain(domain);
        ValidateSelector(selector);
        var dir = System.IO.Path.Combine(Root, domain);
        var path = System.IO.Path.Combine(dir, selector + Extension);
        if (File.Exists(path))
        {
            throw new DkimKeyException($"a DKIM key for selector {selector} of {domain} already exists ({path}); choose another --selector to rotate keys");
        }
        var generator = algorithm == DkimSignatureAlgorithm.Ed25519Sha256 ? (IAsymmetricCipherKeyPairGenerator)new Ed25519KeyPairGenerator() : new RsaKeyPairGenerator();
        generator.Init(algorithm == DkimSignatureAlgorithm.Ed25519Sha256
            ? new Ed25519KeyGenerationParameters(new SecureRandom())
            : new RsaKeyGenerationParameters(Org.BouncyCastle.Math.BigInteger.ValueOf(65537), new SecureRandom(), 2048, 100));
        var pair = generator.GenerateKeyPair();
        var der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(pair.Private).GetEncoded();
        var pem = "-----BEGIN PRIVATE KEY-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n-----END PRIVATE KEY-----\n";

        CreatePrivateDirectory(Root);
        CreatePrivateDirectory(dir);
        var tmp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var f = new FileStream(tmp, options))
        {
            f.Write(Encoding.ASCII.GetBytes(pem));
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path);
        return Load(domain, selector, path) ?? throw new InvalidOperationException("the generated key cannot be read back");
    }

    /// <summary>Every key, by domain then selector.</summary>
    public IReadOnlyList<DkimKey> List()
    {
        if (!System.IO.Directory.Exists(Root))
        {
            return [];
        }
        var keys = new List<DkimKey>();
        foreach (var dir in System.IO.Directory.GetDirectories(Root).Order(StringComparer.Ordinal))
        {
            keys.AddRange(KeysOf(System.IO.Path.GetFileName(dir)));
        }
        return keys;
    }

    /// <summary>The keys of one domain, newest first.</summary>
    public IReadOnlyList<DkimKey> KeysOf(string domain)
    {
        var dir = System.IO.Path.Combine(Root, NormalizeDomain(domain));
        if (!System.IO.Directory.Exists(dir))
        {
            return [];
        }
        return System.IO.Directory.GetFiles(dir, "*" + Extension)
            .Select(p => Load(System.IO.Path.GetFileName(dir), System.IO.Path.GetFileNameWithoutExtension(p), p))
            .OfType<DkimKey>()
            .OrderByDescending(k => k.CreatedUtc)
            .ThenBy(k => k.Selector, StringComparer.Ordinal)
            .ToList();
    }

    private static DkimKey? Load(string domain, string selector, string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            var body = string.Concat(text.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).Select(l => l.Trim()));
            var key = PrivateKeyFactory.CreateKey(Convert.FromBase64String(body));
            var (algorithm, publicKey) = key switch
            {
                Ed25519PrivateKeyParameters ed => (DkimSignatureAlgorithm.Ed25519Sha256, Convert.ToBase64String(ed.GeneratePublicKey().GetEncoded())),
                RsaPrivateCrtKeyParameters rsa => (DkimSignatureAlgorithm.RsaSha256,
                    Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(new RsaKeyParameters(false, rsa.Modulus, rsa.PublicExponent)).GetEncoded())),
                _ => throw new InvalidDataException("not an RSA or Ed25519 private key"),
            };
            return new DkimKey(domain, selector, algorithm, key, publicKey, path, File.GetLastWriteTimeUtc(path));
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException or ArgumentException or InvalidCastException or Org.BouncyCastle.Security.SecurityUtilityException)
        {
            return null;
        }
    }

    private static void CreatePrivateDirectory(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(dir);
        }
        else
        {
            System.IO.Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static string NormalizeDomain(string domain)
    {
        var d = DirectorySnapshot.Normalize(domain).TrimEnd('.');
        if (d.Length == 0 || d.Length > 253 || d.Split('.').Any(l => l.Length is 0 or > 63 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || l.StartsWith('-') || l.EndsWith('-')))
        {
            throw new DkimKeyException($"'{domain}' is not a domain name");
        }
        return d;
    }

    private static void ValidateSelector(string selector)
    {
        // RFC 6376 §3.1: a selector is a sub-domain (dot-separated labels).
        if (selector.Length == 0 || selector.Length > 63 || !selector.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') || selector.StartsWith('.') || selector.EndsWith('.'))
        {
            throw new DkimKeyException($"'{selector}' is not a valid DKIM selector (letters, digits, '-', '.')");
        }
    }
}
