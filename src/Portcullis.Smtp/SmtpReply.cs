using System.Text;

namespace Portcullis.Smtp;

/// <summary>
/// One SMTP reply: a three-digit code (RFC 5321 §4.2), an optional enhanced status code
/// (RFC 3463, RFC 2034) and one or more lines of text.
/// </summary>
public sealed record SmtpReply(int Code, string? Enhanced, IReadOnlyList<string> Lines)
{
    public SmtpReply(int code, string? enhanced, string text)
        : this(code, enhanced, text.Split('\n'))
    {
    }

    public bool IsPositive => Code is >= 200 and < 400;
    public bool IsTransient => Code is >= 400 and < 500;
    public bool IsPermanent => Code >= 500;
    public int Class => Code / 100;

    /// <summary>The reply as it goes on the wire: every line but the last uses "NNN-", the last "NNN " (RFC 5321 §4.2.1).</summary>
    public string ToWire()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < Lines.Count; i++)
        {
            sb.Append(Code).Append(i == Lines.Count - 1 ? ' ' : '-');
            if (Enhanced is not null)
            {
                sb.Append(Enhanced).Append(' ');
            }
            sb.Append(Lines[i]).Append("\r\n");
        }
        return sb.ToString();
    }

    /// <summary>The same reply with another text (keeps code and enhanced code).</summary>
    public SmtpReply WithText(string text) => new(Code, Enhanced, text);

    /// <summary>Single-line rendering for logs and reports: "550 5.7.1 Relay access denied".</summary>
    public override string ToString() =>
        $"{Code}{(Enhanced is null ? "" : " " + Enhanced)} {string.Join(" / ", Lines)}";
}
