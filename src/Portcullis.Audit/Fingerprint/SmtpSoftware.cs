namespace Portcullis.Audit.Fingerprint;

/// <summary>The mail server products the auditor recognises and has fixes for.</summary>
public enum SmtpSoftware
{
    Unknown,
    Postfix,
    Exim,
    Sendmail,
    Exchange,
    OpenSmtpd,
    Qmail,
    Haraka,
    HMailServer,
    Portcullis,
}

public static class SmtpSoftwareNames
{
    public static string Display(this SmtpSoftware s) => s switch
    {
        SmtpSoftware.Exchange => "Microsoft Exchange",
        SmtpSoftware.OpenSmtpd => "OpenSMTPD",
        SmtpSoftware.HMailServer => "hMailServer",
        SmtpSoftware.Qmail => "qmail",
        SmtpSoftware.Unknown => "unknown",
        _ => s.ToString(),
    };
}
