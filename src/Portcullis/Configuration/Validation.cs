namespace Portcullis.Configuration;

/// <summary>Syntax checks for names used in settings.</summary>
public static class Validation
{
    /// <summary>A host or domain name: dot-separated labels of letters, digits and hyphens (RFC 1035 §2.3.1, RFC 5321 §4.1.2).</summary>
    public static bool IsDomainName(string s)
    {
        if (s.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var label in s.TrimEnd('.').Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-'))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsMailAddress(string s)
    {
        var at = s.LastIndexOf('@');
        return at > 0 && at < s.Length - 1 && s.IndexOf('@') == at && IsDomainName(s[(at + 1)..])
            && s[..at].All(ch => ch > ' ' && ch < 127 && ch != '<' && ch != '>' && ch != '"');
    }
}
