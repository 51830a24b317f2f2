using System.Net;
using System.Net.Sockets;

namespace Portcullis.Smtp;

/// <summary>Why a path did not parse. The session maps each to its reply.</summary>
public enum PathError
{
    None,
    /// <summary>Not RFC 5321 path syntax.</summary>
    Syntax,
    /// <summary>No angle brackets (RFC 822 style "user@example.com"): RFC 5321 §4.1.2 requires them.</summary>
    MissingBrackets,
    /// <summary>A second "@" outside quotes, or a trailing "@": sender-specified routing (catalog §1.1 #9, #11; §1.4).</summary>
    ExtraAt,
    /// <summary>RFC 5321 §4.5.3.1.1-3: local part over 64, domain over 255 or path over 256 octets.</summary>
    TooLong,
    /// <summary>NUL or another control character in the address (catalog §4).</summary>
    ControlCharacter,
}

/// <summary>
/// Parses RFC 5321 paths: "&lt;&gt;", "&lt;[@route,...:]local@domain&gt;" and the bare "&lt;Postmaster&gt;" form.
/// Never throws; every input gets a result or a <see cref="PathError"/>.
/// </summary>
public static class PathParser
{
    public const int MaxLocalPart = 64;
    public const int MaxDomain = 255;
    public const int MaxPath = 256;

    /// <summary>atext of RFC 5322 §3.2.3 (which RFC 5321 uses for Atom), plus UTF-8 for SMTPUTF8 (RFC 6531).</summary>
    public static bool IsAtext(char c) =>
        char.IsAsciiLetterOrDigit(c) || c > 127 || "!#$%&'*+-/=?^_`{|}~".Contains(c);

    /// <summary>
    /// Parses the path at the start of <paramref name="text"/> (the argument after "FROM:" or "TO:"). On
    /// success <paramref name="rest"/> holds what follows the closing bracket (the ESMTP parameters).
    /// </summary>
    public static PathError TryParse(ReadOnlySpan<char> text, bool allowNull, out MailPath path, out string rest)
    {
        path = MailPath.Null;
        rest = "";
        if (text.IsEmpty)
        {
            return PathError.Syntax;
        }
        foreach (var ch in text)
        {
            if (ch < 32 || ch == 127)
            {
                return PathError.ControlCharacter;
            }
        }
        if (text[0] != '<')
        {
            return text.Contains('@') ? PathError.MissingBrackets : PathError.Syntax;
        }
        var close = FindClosingBracket(text);
        if (close < 0)
        {
            return PathError.Syntax;
        }
        var inner = text[1..close];
        rest = text[(close + 1)..].ToString();
        if (rest.Length > 0 && rest[0] != ' ')
        {
            return PathError.Syntax;
        }
        rest = rest.TrimStart(' ');
        if (close + 1 > MaxPath)
        {
            return PathError.TooLong;
        }
        if (inner.IsEmpty)
        {
            if (!allowNull)
            {
                return PathError.Syntax;
            }
            path = MailPath.Null;
            return PathError.None;
        }

        // Source route: "@a.example,@b.example:" (RFC 5321 §4.1.2 A-d-l).
        var route = new List<string>();
        if (inner[0] == '@')
        {
            var colon = inner.IndexOf(':');
            if (colon < 0)
            {
                return PathError.Syntax;
            }
            foreach (var hop in inner[..colon].ToString().Split(','))
            {
                if (hop.Length < 2 || hop[0] != '@' || !IsDomainOrLiteral(hop[1..]))
                {
                    return PathError.Syntax;
                }
                route.Add(hop[1..]);
            }
            inner = inner[(colon + 1)..];
        }

        var err = ParseMailbox(inner, out var mailbox);
        if (err != PathError.None)
        {
            return err;
        }
        path = new MailPath(mailbox, route);
        return PathError.None;
    }

    /// <summary>Parses "local@domain" or an unqualified "local" (domain empty).</summary>
    public static PathError ParseMailbox(ReadOnlySpan<char> s, out Mailbox mailbox)
    {
        mailbox = new Mailbox("", "");
        if (s.IsEmpty)
        {
            return PathError.Syntax;
        }
        string local;
        var quoted = false;
        int pos;
        if (s[0] == '"')
        {
            // Quoted-string = DQUOTE *QcontentSMTP DQUOTE; quoted-pairSMTP = "\" %d32-126.
            var sb = new System.Text.StringBuilder();
            pos = 1;
            var closed = false;
            while (pos < s.Length)
            {
                var c = s[pos];
                if (c == '\\')
                {
                    if (pos + 1 >= s.Length || s[pos + 1] < 32 || s[pos + 1] == 127)
                    {
                        return PathError.Syntax;
                    }
                    sb.Append(s[pos + 1]);
                    pos += 2;
                    continue;
                }
                if (c == '"')
                {
                    closed = true;
                    pos++;
                    break;
                }
                sb.Append(c);
                pos++;
            }
            if (!closed)
            {
                return PathError.Syntax;
            }
            local = sb.ToString();
            quoted = true;
        }
        else
        {
            pos = 0;
            while (pos < s.Length && s[pos] != '@')
            {
                pos++;
            }
            local = s[..pos].ToString();
            if (!IsDotString(local))
            {
                return PathError.Syntax;
            }
        }
        if (System.Text.Encoding.UTF8.GetByteCount(local) > MaxLocalPart)
        {
            return PathError.TooLong;
        }
        if (pos == s.Length)
        {
            mailbox = new Mailbox(local, "", quoted);
            return PathError.None;
        }
        if (s[pos] != '@')
        {
            return PathError.Syntax;
        }
        var domain = s[(pos + 1)..];
        if (domain.IsEmpty)
        {
            return PathError.Syntax;
        }
        // A second "@" (outside quotes) means sender-specified routing: "a@b@c" or a trailing "a@b@".
        if (domain.Contains('@'))
        {
            return PathError.ExtraAt;
        }
        if (System.Text.Encoding.UTF8.GetByteCount(domain) > MaxDomain)
        {
            return PathError.TooLong;
        }
        var d = domain.ToString();
        if (!IsDomainOrLiteral(d))
        {
            return PathError.Syntax;
        }
        mailbox = new Mailbox(local, d, quoted);
        return PathError.None;
    }

    /// <summary>Dot-string = Atom *("." Atom).</summary>
    public static bool IsDotString(string s)
    {
        if (s.Length == 0 || s[0] == '.' || s[^1] == '.')
        {
            return false;
        }
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '.')
            {
                if (s[i - 1] == '.')
                {
                    return false;
                }
                continue;
            }
            if (!IsAtext(c))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsDomainOrLiteral(string s) => s.StartsWith('[') ? IsAddressLiteral(s) : IsDomain(s);

    /// <summary>
    /// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]. One trailing dot is tolerated
    /// here (the policy strips it and judges the result; catalog §1.4) and UTF-8 labels are allowed (RFC 6531).
    /// </summary>
    public static bool IsDomain(string s)
    {
        var t = s.EndsWith('.') ? s[..^1] : s;
        if (t.Length == 0)
        {
            return false;
        }
        foreach (var label in t.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > 127))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>address-literal = "[" ( IPv4 / "IPv6:" IPv6 / General-address-literal ) "]" (RFC 5321 §4.1.3).</summary>
    public static bool IsAddressLiteral(string s)
    {
        if (s.Length < 3 || s[0] != '[' || s[^1] != ']')
        {
            return false;
        }
        var inner = s[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(inner[5..], out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6;
        }
        if (inner.Length > 0 && char.IsAsciiDigit(inner[0]))
        {
            var parts = inner.Split('.');
            return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
        }
        // General-address-literal = Standardized-tag ":" 1*dcontent
        var colon = inner.IndexOf(':');
        return colon > 0 && colon < inner.Length - 1 && inner[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            && inner[(colon + 1)..].All(c => c is >= (char)33 and <= (char)126 and not '[' and not '\\' and not ']');
    }

    /// <summary>Finds the '&gt;' that closes the path, skipping quoted strings (a quoted local part may hold '&gt;').</summary>
    private static int FindClosingBracket(ReadOnlySpan<char> text)
    {
        var inQuote = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuote)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inQuote = false;
                }
            }
            else if (c == '"')
            {
                inQuote = true;
            }
            else if (c == '>')
            {
                return i;
            }
            else if (c == '<')
            {
                return -1;
            }
        }
        return -1;
    }
}
