using System.Text;

namespace Portcullis.Smtp;

/// <summary>
/// ESMTP parameters of MAIL and RCPT: esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 §4.1.2).
/// Keywords are case-insensitive; a repeated keyword is an error.
/// </summary>
public sealed class EsmtpParameters
{
    private readonly Dictionary<string, string?> _values;

    private EsmtpParameters(Dictionary<string, string?> values)
    {
        _values = values;
    }

    public static readonly EsmtpParameters None = new(new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase));

    public IEnumerable<string> Keywords => _values.Keys;

    public bool Has(string keyword) => _values.ContainsKey(keyword);

    public string? this[string keyword] => _values.TryGetValue(keyword, out var v) ? v : null;

    public static bool TryParse(string text, out EsmtpParameters parameters)
    {
        parameters = None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        var dict = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = item.IndexOf('=');
            var key = eq < 0 ? item : item[..eq];
            var value = eq < 0 ? null : item[(eq + 1)..];
            // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
            if (key.Length == 0 || !char.IsAsciiLetterOrDigit(key[0]) || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
            // esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii)
            if (value is not null && (value.Length == 0 || value.Any(c => c < 33 || c == '=' || c == 127)))
            {
                return false;
            }
            if (!dict.TryAdd(key, value))
            {
                return false;
            }
        }
        parameters = new EsmtpParameters(dict);
        return true;
    }

    /// <summary>
    /// The text an xtext stands for (RFC 3461 §4: "+XX" is the octet XX), or null when it is not xtext or
    /// stands for anything but printable ASCII and space: a decoded ENVID or ORCPT goes into DSN header
    /// fields, where an encoded CR or LF would start a header of the client's choosing (Postfix refuses
    /// those too).
    /// </summary>
    public static string? DecodeXtext(string s)
    {
        if (!IsXtext(s))
        {
            return null;
        }
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+')
            {
                c = (char)Convert.ToByte(s.Substring(i + 1, 2), 16);
                i += 2;
                if (c < 32 || c > 126)
                {
                    return null;
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>xtext (RFC 3461 §4): printable ASCII except "+" and "=", with "+XX" hex escapes.</summary>
    public static bool IsXtext(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+')
            {
                if (i + 2 >= s.Length || !char.IsAsciiHexDigitUpper(s[i + 1]) || !char.IsAsciiHexDigitUpper(s[i + 2]))
                {
                    return false;
                }
                i += 2;
            }
            else if (c < 33 || c > 126 || c == '=')
            {
                return false;
            }
        }
        return true;
    }
}
