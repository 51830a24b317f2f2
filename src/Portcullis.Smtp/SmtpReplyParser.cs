using System.Globalization;

namespace Portcullis.Smtp;

/// <summary>
/// Client side: turns the lines of a server reply into an <see cref="SmtpReply"/>. Used by the auditor's
/// raw prober, which must see replies exactly as sent (no library smoothing over odd servers).
/// </summary>
public static class SmtpReplyParser
{
    /// <summary>
    /// Parses one reply line. Returns false when the line does not start with a three-digit code.
    /// <paramref name="isLast"/> is true for "NNN " or "NNN" (RFC 5321 §4.2.1), false for "NNN-".
    /// </summary>
    public static bool TryParseLine(string line, out int code, out bool isLast, out string text)
    {
        code = 0;
        isLast = true;
        text = "";
        if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2]))
        {
            return false;
        }
        code = int.Parse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture);
        if (line.Length == 3)
        {
            return true;
        }
        isLast = line[3] != '-';
        text = line.Length > 4 ? line[4..] : "";
        return true;
    }

    /// <summary>Builds a reply from the parsed lines, lifting an enhanced status code (RFC 3463) off the first line when present.</summary>
    public static SmtpReply Build(int code, IReadOnlyList<string> texts)
    {
        string? enhanced = null;
        var lines = new List<string>(texts.Count);
        foreach (var t in texts)
        {
            var (e, rest) = SplitEnhanced(code, t);
            enhanced ??= e;
            lines.Add(e is not null ? rest : t);
        }
        if (lines.Count == 0)
        {
            lines.Add("");
        }
        return new SmtpReply(code, enhanced, lines);
    }

    /// <summary>Splits "5.7.1 Relay access denied" into ("5.7.1", "Relay access denied") when the class digit matches the reply code.</summary>
    public static (string? Enhanced, string Remainder) SplitEnhanced(int code, string text)
    {
        var sp = text.IndexOf(' ');
        var token = sp < 0 ? text : text[..sp];
        var parts = token.Split('.');
        if (parts.Length == 3 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit))
            && parts[0].Length == 1 && parts[0][0] - '0' == code / 100)
        {
            return (token, sp < 0 ? "" : text[(sp + 1)..]);
        }
        return (null, text);
    }
}
