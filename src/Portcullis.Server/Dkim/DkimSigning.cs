using System.Collections.Concurrent;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Portcullis.Server.Dkim;

/// <summary>
/// Signs outgoing mail with the DKIM key of its From: domain (RFC 6376), relaxed/relaxed, with MimeKit.
/// Keys come from <see cref="DkimKeyStore"/>: once `portcullis dkim generate DOMAIN` has run, mail From:
/// that domain is signed with no further configuration (a running server notices a new key within
/// seconds). The signature is prepended to the bytes as they are, so nothing else in the message changes.
/// Thread-safe: the session calls it concurrently.
/// </summary>
public sealed class DkimSigning(string dataDir)
{
    /// <summary>Header fields signed when present (RFC 6376 §5.4.1's recommended set; From is required).</summary>
    private static readonly string[] SignedHeaders =
    [
        "From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID", "Content-Description",
        "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
    ];

    private static readonly TimeSpan KeyRecheck = TimeSpan.FromSeconds(2);
    private readonly DkimKeyStore _store = new(dataDir);
    private readonly ConcurrentDictionary<string, (DateTime CheckedAt, DkimKey? Key)> _keys = new(StringComparer.Ordinal);

    /// <summary>
    /// Returns the message with a DKIM-Signature header added when its From: domain has a key, else the
    /// message unchanged. <paramref name="signingDomain"/> names the domain that signed, or null.
    /// </summary>
    /// <param name="message">the whole message, CRLF line endings, stray CR/LF already replaced</param>
    public ReadOnlyMemory<byte> Sign(ReadOnlyMemory<byte> message, out string? signingDomain)
    {
        signingDomain = null;
        MimeMessage parsed;
        try
        {
            parsed = MimeMessage.Load(new MemoryStream(message.ToArray(), writable: false));
        }
        catch (FormatException)
        {
            return message;
        }
        // RFC 6376 §3.10 / DMARC alignment: sign as the domain of the (single) From: address.
        var from = parsed.From.Mailboxes.FirstOrDefault();
        if (from is null || string.IsNullOrEmpty(from.Domain))
        {
            return message;
        }
        var key = KeyFor(from.Domain);
        if (key is null)
        {
            return message;
        }
        signingDomain = key.Domain;
        return SignWith(message, parsed, key);
    }

    /// <summary>
    /// Signs with the key of <paramref name="fromDomain"/> (the session already knows the From: domain);
    /// returns the message unchanged when that domain has no key. This is ServerContext.SignOutbound.
    /// </summary>
    public ReadOnlyMemory<byte> Sign(ReadOnlyMemory<byte> message, string fromDomain)
    {
        var key = KeyFor(fromDomain);
        if (key is null)
        {
            return message;
        }
        MimeMessage parsed;
        try
        {
            parsed = MimeMessage.Load(new MemoryStream(message.ToArray(), writable: false));
        }
        catch (FormatException)
        {
            return message;
        }
        return SignWith(message, parsed, key);
    }

    private static ReadOnlyMemory<byte> SignWith(ReadOnlyMemory<byte> message, MimeMessage parsed, DkimKey key)
    {
        var signer = new DkimSigner(key.PrivateKey, key.Domain, key.Selector, key.Algorithm)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        var headers = SignedHeaders.Where(h => parsed.Headers.Contains(h)).ToList();
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        signer.Sign(options, parsed, headers);
        var signature = parsed.Headers[0];
        if (!signature.Field.Equals("DKIM-Signature", StringComparison.OrdinalIgnoreCase))
        {
            return message;
        }
        var head = Encoding.ASCII.GetBytes(signature.Field + ":" + CrLf(Encoding.ASCII.GetString(signature.RawValue)));
        var signed = new byte[head.Length + message.Length];
        head.CopyTo(signed, 0);
        message.Span.CopyTo(signed.AsSpan(head.Length));
        return signed;
    }

    /// <summary>The newest key of a domain, re-read from disk every few seconds.</summary>
    private DkimKey? KeyFor(string domain)
    {
        string normalized;
        try
        {
            normalized = DkimKeyStore.NormalizeDomain(domain);
        }
        catch (DkimKeyException)
        {
            return null;
        }
        var now = DateTime.UtcNow;
        if (_keys.TryGetValue(normalized, out var cached) && now - cached.CheckedAt < KeyRecheck)
        {
            return cached.Key;
        }
        var key = _store.KeysOf(normalized).FirstOrDefault();
        _keys[normalized] = (now, key);
        return key;
    }

    /// <summary>The folded header value with CRLF line ends (the queue's form), ending in CRLF.</summary>
    private static string CrLf(string raw)
    {
        var lf = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!lf.EndsWith('\n'))
        {
            lf += "\n";
        }
        return lf.Replace("\n", "\r\n", StringComparison.Ordinal);
    }
}
