using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.Server.Directory;

/// <summary>
/// A user's password kept as a SCRAM-SHA-256 credential (RFC 5802 §3, RFC 7677): salt, PBKDF2-SHA256
/// iteration count, StoredKey and ServerKey. The password itself is never stored, yet the one credential
/// verifies AUTH PLAIN and LOGIN (derive and compare StoredKey) and drives the SCRAM-SHA-256 server
/// exchange (the server needs only StoredKey and ServerKey).
/// Serialized as PostgreSQL does: <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c> (base64).
/// </summary>
/// <remarks>
/// The password is used as its UTF-8 bytes. RFC 5802 §2.2 asks for SASLprep (RFC 4013); for ASCII
/// passwords SASLprep changes nothing, and this build runs with invariant globalization (no NFKC), so
/// non-ASCII passwords are taken as typed. PLAIN and LOGIN use the same bytes, so they always agree.
/// </remarks>
public sealed class ScramCredential
{
    public const string Scheme = "SCRAM-SHA-256";

    /// <summary>RFC 7677 §4 asks for at least 4096; 4096 is far too cheap for today's GPUs, so new credentials use at least 100,000.</summary>
    public const int MinimumIterationsForNewCredentials = 100_000;

    public const int DefaultIterations = 100_000;

    public const int SaltLength = 16;

    private const int KeyLength = 32; // SHA-256 output

    private readonly byte[] _salt;
    private readonly byte[] _storedKey;
    private readonly byte[] _serverKey;

    private ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey)
    {
        _salt = salt;
        Iterations = iterations;
        _storedKey = storedKey;
        _serverKey = serverKey;
    }

    public int Iterations { get; }

    public ReadOnlySpan<byte> Salt => _salt;

    /// <summary>StoredKey = H(ClientKey), ClientKey = HMAC(SaltedPassword, "Client Key") (RFC 5802 §3).</summary>
    public ReadOnlySpan<byte> StoredKey => _storedKey;

    /// <summary>ServerKey = HMAC(SaltedPassword, "Server Key") (RFC 5802 §3).</summary>
    public ReadOnlySpan<byte> ServerKey => _serverKey;

    /// <summary>The salt in base64, as sent in the SCRAM server-first-message (s=).</summary>
    public string SaltBase64 => Convert.ToBase64String(_salt);

    /// <summary>A new credential for a password: 16 random salt bytes, at least 100,000 iterations.</summary>
    public static ScramCredential Create(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length == 0)
        {
            throw new ArgumentException("the password is empty", nameof(password));
        }
        if (iterations < MinimumIterationsForNewCredentials)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, $"new credentials need at least {MinimumIterationsForNewCredentials} PBKDF2 iterations");
        }
        return Derive(password, RandomNumberGenerator.GetBytes(SaltLength), iterations);
    }

    /// <summary>
    /// Derives the credential for a password with a given salt and iteration count (no minimum: used to
    /// reproduce known vectors such as RFC 7677 §3, and by <see cref="VerifyPassword"/>).
    /// </summary>
    public static ScramCredential Derive(string password, ReadOnlySpan<byte> salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        if (salt.IsEmpty)
        {
            throw new ArgumentException("the salt is empty", nameof(salt));
        }
        var (storedKey, serverKey) = DeriveKeys(password, salt, iterations);
        return new ScramCredential(salt.ToArray(), iterations, storedKey, serverKey);
    }

    /// <summary>
    /// True when the password derives this credential's StoredKey (AUTH PLAIN and LOGIN).
    /// The comparison is constant-time so its duration does not reveal how much matched.
    /// </summary>
    public bool VerifyPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var (storedKey, _) = DeriveKeys(password, _salt, Iterations);
        return CryptographicOperations.FixedTimeEquals(storedKey, _storedKey);
    }

    /// <summary>
    /// SCRAM server side (RFC 5802 §3): ClientSignature = HMAC(StoredKey, AuthMessage);
    /// ClientKey = ClientProof XOR ClientSignature; the proof is right when H(ClientKey) = StoredKey.
    /// </summary>
    public bool VerifyClientProof(string authMessage, ReadOnlySpan<byte> clientProof)
    {
        ArgumentNullException.ThrowIfNull(authMessage);
        if (clientProof.Length != KeyLength)
        {
            return false;
        }
        var clientSignature = HMACSHA256.HashData(_storedKey, Encoding.UTF8.GetBytes(authMessage));
        var clientKey = new byte[KeyLength];
        for (var i = 0; i < KeyLength; i++)
        {
            clientKey[i] = (byte)(clientProof[i] ^ clientSignature[i]);
        }
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), _storedKey);
    }

    /// <summary>ServerSignature = HMAC(ServerKey, AuthMessage), sent base64 as v= in the server-final-message (RFC 5802 §3).</summary>
    public byte[] ComputeServerSignature(string authMessage)
    {
        ArgumentNullException.ThrowIfNull(authMessage);
        return HMACSHA256.HashData(_serverKey, Encoding.UTF8.GetBytes(authMessage));
    }

    /// <summary>The PostgreSQL-style text form, the only form stored in the directory.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Scheme}${Iterations}:{Convert.ToBase64String(_salt)}${Convert.ToBase64String(_storedKey)}:{Convert.ToBase64String(_serverKey)}");

    /// <summary>Parses the text form strictly: exact scheme, a positive decimal count, canonical base64, 32-byte keys.</summary>
    public static ScramCredential Parse(string text) =>
        TryParse(text, out var credential, out var error) ? credential : throw new FormatException("invalid SCRAM-SHA-256 credential: " + error);

    public static bool TryParse(string? text, out ScramCredential credential) => TryParse(text, out credential, out _);

    private static bool TryParse(string? text, out ScramCredential credential, out string error)
    {
        credential = null!;
        if (text is null)
        {
            error = "null";
            return false;
        }
        var prefix = Scheme + "$";
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            error = "it does not start with " + prefix;
            return false;
        }
        var parts = text[prefix.Length..].Split('$');
        if (parts.Length != 2)
        {
            error = "expected <iterations>:<salt>$<StoredKey>:<ServerKey>";
            return false;
        }
        var head = parts[0].Split(':');
        var keys = parts[1].Split(':');
        if (head.Length != 2 || keys.Length != 2)
        {
            error = "expected <iterations>:<salt>$<StoredKey>:<ServerKey>";
            return false;
        }
        // Digits only: no sign, no spaces, no leading zeros, so each credential has exactly one text form.
        if (head[0].Length is 0 or > 10 || !head[0].All(char.IsAsciiDigit) || head[0][0] == '0'
            || !int.TryParse(head[0], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations))
        {
            error = "the iteration count is not a positive integer";
            return false;
        }
        if (!TryDecodeCanonicalBase64(head[1], out var salt) || salt.Length == 0)
        {
            error = "the salt is not base64";
            return false;
        }
        if (!TryDecodeCanonicalBase64(keys[0], out var storedKey) || storedKey.Length != KeyLength)
        {
            error = "the StoredKey is not 32 bytes of base64";
            return false;
        }
        if (!TryDecodeCanonicalBase64(keys[1], out var serverKey) || serverKey.Length != KeyLength)
        {
            error = "the ServerKey is not 32 bytes of base64";
            return false;
        }
        credential = new ScramCredential(salt, iterations, storedKey, serverKey);
        error = "";
        return true;
    }

    private static bool TryDecodeCanonicalBase64(string s, out byte[] bytes)
    {
        bytes = [];
        if (s.Length == 0 || s.Length % 4 != 0)
        {
            return false;
        }
        try
        {
            bytes = Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            return false;
        }
        // Convert accepts whitespace and non-zero padding bits; the round trip rejects both.
        return Convert.ToBase64String(bytes) == s;
    }

    private static (byte[] StoredKey, byte[] ServerKey) DeriveKeys(string password, ReadOnlySpan<byte> salt, int iterations)
    {
        // SaltedPassword = Hi(password, salt, i) = PBKDF2-HMAC-SHA-256 (RFC 5802 §2.2).
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var saltedPassword = Rfc2898DeriveBytes.Pbkdf2(passwordBytes, salt, iterations, HashAlgorithmName.SHA256, KeyLength);
        try
        {
            var clientKey = HMACSHA256.HashData(saltedPassword, "Client Key"u8);
            var storedKey = SHA256.HashData(clientKey);
            var serverKey = HMACSHA256.HashData(saltedPassword, "Server Key"u8);
            CryptographicOperations.ZeroMemory(clientKey);
            return (storedKey, serverKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(saltedPassword);
            CryptographicOperations.ZeroMemory(passwordBytes);
        }
    }
}
