using System.Globalization;

namespace Portcullis.Server.Directory;

/// <summary>
/// What the directory accepts as a domain name and as a user or alias address, and their stored form.
/// Deliberately narrower than RFC 5321 allows: the directory's names become Maildir paths
/// (<c>mail/&lt;domain&gt;/&lt;localpart&gt;/Maildir</c>) and are compared by the relay policy, so no
/// character that routes mail elsewhere (<c>%</c>, <c>!</c>, <c>@</c>, catalog §1) or walks a path
/// (<c>/</c>, a leading dot) can get in.
/// </summary>
public static class DirectoryNames
{
    /// <summary>RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.</summary>
    public const int MaxLocalPartLength = 64;

    /// <summary>RFC 1035 §2.3.4 / RFC 5321 §4.5.3.1.2: 255 octets on the wire, 253 characters as text.</summary>
    public const int MaxDomainLength = 253;

    private const int MaxLabelLength = 63;

    /// <summary>Validates a domain name and returns its stored form: lower-case, internationalized names as A-labels (RFC 5890).</summary>
    public static string NormalizeDomain(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var d = domain.Trim();
        if (d.Length == 0)
        {
            throw Invalid("the domain name is empty");
        }
        if (d.StartsWith('[') || d.Contains(':', StringComparison.Ordinal))
        {
            throw Invalid($"\"{d}\" is an address literal, not a domain name");
        }
        if (d.EndsWith('.'))
        {
            throw Invalid($"\"{d}\" ends with a dot; write the domain without it");
        }
        if (!d.All(char.IsAscii))
        {
            try
            {
                d = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(d);
            }
            catch (ArgumentException)
            {
                throw Invalid($"\"{domain.Trim()}\" is not a valid internationalized domain name");
            }
        }
        d = d.ToLowerInvariant();
        if (d.Length > MaxDomainLength)
        {
            throw Invalid($"\"{d}\" is longer than {MaxDomainLength} characters");
        }
        var labels = d.Split('.');
        if (labels.Length < 2)
        {
            throw Invalid($"\"{d}\" has a single label; a mail domain needs at least two (e.g. example.test)");
        }
        foreach (var label in labels)
        {
            if (label.Length == 0)
            {
                throw Invalid($"\"{d}\" has an empty label (two dots in a row, or a leading dot)");
            }
            if (label.Length > MaxLabelLength)
            {
                throw Invalid($"\"{d}\" has a label longer than {MaxLabelLength} characters");
            }
            // RFC 1123 §2.1 / RFC 5321 §4.1.2 sub-domain: letters, digits and hyphens, no hyphen at either end.
            if (!label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw Invalid($"\"{d}\" has a character other than letters, digits, hyphens and dots");
            }
            if (label[0] == '-' || label[^1] == '-')
            {
                throw Invalid($"\"{d}\" has a label that starts or ends with a hyphen");
            }
        }
        if (labels[^1].All(char.IsAsciiDigit))
        {
            throw Invalid($"\"{d}\" looks like an IP address; a mail domain ends in a name");
        }
        return d;
    }

    /// <summary>
    /// Validates a user or alias address (local-part@domain) and returns its stored form, lower-case.
    /// The local part is a dot-atom (RFC 5322 §3.2.3) of letters, digits, '.', '_', '-', '+' and '='.
    /// </summary>
    public static string NormalizeAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var a = address.Trim();
        if (a.StartsWith('<') && a.EndsWith('>'))
        {
            throw Invalid($"\"{a}\": write the address without angle brackets");
        }
        var at = a.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            throw Invalid($"\"{a}\" is not an address: it has no @domain");
        }
        if (a.IndexOf('@', at + 1) >= 0)
        {
            throw Invalid($"\"{a}\" has more than one @");
        }
        var local = a[..at];
        string domain;
        try
        {
            domain = NormalizeDomain(a[(at + 1)..]);
        }
        catch (DirectoryException e)
        {
            throw Invalid($"\"{a}\": {e.Message}");
        }
        return NormalizeLocalPart(local, a) + "@" + domain;
    }

    /// <summary>The domain part of an address already in stored form.</summary>
    public static string DomainOf(string normalizedAddress) => normalizedAddress[(normalizedAddress.LastIndexOf('@') + 1)..];

    /// <summary>The local part of an address already in stored form.</summary>
    public static string LocalPartOf(string normalizedAddress) => normalizedAddress[..normalizedAddress.LastIndexOf('@')];

    private static string NormalizeLocalPart(string local, string address)
    {
        if (local.Length == 0)
        {
            throw Invalid($"\"{address}\" has an empty local part");
        }
        if (local.Length > MaxLocalPartLength)
        {
            throw Invalid($"\"{address}\" has a local part longer than {MaxLocalPartLength} characters");
        }
        foreach (var c in local)
        {
            if (c is '%' or '!')
            {
                // Catalog §1.2: '%' and '!' are historical routing syntax; a user named with them would
                // look like a relay path to other software.
                throw Invalid($"\"{address}\" has '{c}' in its local part; '%' and '!' route mail elsewhere and are not allowed");
            }
            if (!(char.IsAsciiLetter(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '+' or '='))
            {
                throw Invalid($"\"{address}\" has a character other than letters, digits and . _ - + = in its local part");
            }
        }
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            throw Invalid($"\"{address}\" has a dot at the start or end of its local part, or two in a row (RFC 5322 §3.2.3 dot-atom)");
        }
        return local.ToLowerInvariant();
    }

    private static DirectoryException Invalid(string message) => new(DirectoryErrorKind.Invalid, message);
}
