namespace Portcullis.Smtp;

/// <summary>The SMTP verbs the server knows (RFC 5321 §4.1.1, RFC 3207, RFC 4954).</summary>
public enum SmtpVerb
{
    Unknown,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}

/// <summary>One command line split into verb and argument. Verbs are case-insensitive (RFC 5321 §2.4).</summary>
public readonly record struct SmtpCommand(SmtpVerb Verb, string VerbText, string Argument)
{
    /// <summary>Parses a command line (without its CRLF). Never throws.</summary>
    public static SmtpCommand Parse(string line)
    {
        var sp = line.IndexOf(' ');
        var verbText = sp < 0 ? line : line[..sp];
        var arg = sp < 0 ? "" : line[(sp + 1)..];
        var verb = verbText.ToUpperInvariant() switch
        {
            "HELO" => SmtpVerb.Helo,
            "EHLO" => SmtpVerb.Ehlo,
            "MAIL" => SmtpVerb.Mail,
            "RCPT" => SmtpVerb.Rcpt,
            "DATA" => SmtpVerb.Data,
            "BDAT" => SmtpVerb.Bdat,
            "RSET" => SmtpVerb.Rset,
            "NOOP" => SmtpVerb.Noop,
            "QUIT" => SmtpVerb.Quit,
            "VRFY" => SmtpVerb.Vrfy,
            "EXPN" => SmtpVerb.Expn,
            "HELP" => SmtpVerb.Help,
            "STARTTLS" => SmtpVerb.StartTls,
            "AUTH" => SmtpVerb.Auth,
            _ => SmtpVerb.Unknown,
        };
        return new SmtpCommand(verb, verbText, arg);
    }

    /// <summary>
    /// Splits "FROM:&lt;x&gt; SIZE=1" after the keyword ("FROM" or "TO", case-insensitive). Tolerates spaces
    /// after the colon, which many clients send although RFC 5321 §4.1.1.2 has none. Null when the keyword is absent.
    /// </summary>
    public static string? AfterKeyword(string argument, string keyword)
    {
        if (argument.Length <= keyword.Length || !argument.StartsWith(keyword, StringComparison.OrdinalIgnoreCase) || argument[keyword.Length] != ':')
        {
            return null;
        }
        return argument[(keyword.Length + 1)..].TrimStart(' ');
    }
}
