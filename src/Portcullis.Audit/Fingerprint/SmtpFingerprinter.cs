using System.Text.RegularExpressions;

namespace Portcullis.Audit.Fingerprint;

/// <summary>What the fingerprint found: the product, a version when the server tells it, and the clue.</summary>
public sealed record SmtpFingerprint(SmtpSoftware Software, string? Version, string Clue)
{
    public string Display => Software.Display() + (Version is null ? "" : " " + Version);
}

/// <summary>
/// Recognises the server software from what it says: the 220 greeting first (most products name themselves
/// there), then the EHLO reply and the wording of other replies. Rules are a table, tried in order; the
/// first match wins.
/// </summary>
public static partial class SmtpFingerprinter
{
    private sealed record Rule(SmtpSoftware Software, Regex Pattern, string Clue);

    // Order matters: specific product names before generic phrases shared by several products. A product
    // name inside a host name (mx.exim.test) does not count: the lookarounds refuse neighbouring dots.
    private static readonly Rule[] Rules =
    [
        new(SmtpSoftware.Portcullis, new(@"(?<![.\w-])Portcullis(?![.\w-])(?:[ /]v?(?<v>\d+(?:\.\d+)*))?", RegexOptions.IgnoreCase), "names itself Portcullis"),
        new(SmtpSoftware.Postfix, new(@"(?<![.\w-])Postfix(?![.\w-])(?:[ /-](?<v>\d+\.\d+(?:\.\d+)?))?", RegexOptions.IgnoreCase), "names itself Postfix"),
        new(SmtpSoftware.Exim, new(@"(?<![.\w-])Exim(?![.\w-])(?: (?<v>\d+\.\d+(?:\.\d+)?))?", RegexOptions.IgnoreCase), "names itself Exim"),
        new(SmtpSoftware.Sendmail, new(@"(?<![.\w-])Sendmail(?![.\w-])(?: (?<v>\d+\.\d+\.\d+))?", RegexOptions.IgnoreCase), "names itself Sendmail"),
        new(SmtpSoftware.OpenSmtpd, new(@"(?<![.\w-])OpenSMTPD(?![.\w-])", RegexOptions.IgnoreCase), "names itself OpenSMTPD"),
        new(SmtpSoftware.Haraka, new(@"(?<![.\w-])Haraka(?![.\w-])(?:/(?<v>\d+\.\d+(?:\.\d+)?))?", RegexOptions.IgnoreCase), "names itself Haraka"),
        new(SmtpSoftware.HMailServer, new(@"(?<![.\w-])hMailServer(?![.\w-])", RegexOptions.IgnoreCase), "names itself hMailServer"),
        new(SmtpSoftware.Exchange, new(@"Microsoft ESMTP MAIL Service|Microsoft Exchange|\bX-EXPS\b|\bXEXCH50\b|\bX-ANONYMOUSTLS\b|\bXRDST\b", RegexOptions.IgnoreCase), "Microsoft ESMTP greeting or Exchange EHLO keywords"),
        new(SmtpSoftware.Qmail, new(@"\bqmail\b|\(#\d\.\d\.\d\)", RegexOptions.IgnoreCase), "qmail wording (\"(#5.7.1)\" status in the text)"),
        // Wording when the greeting is anonymised:
        new(SmtpSoftware.OpenSmtpd, new(@"Invalid command: Command unrecognized|pleased to meet you.*\n.*SIZE \d+.*\n(?s:.*)250 HELP", RegexOptions.IgnoreCase), "OpenSMTPD reply wording"),
        new(SmtpSoftware.Postfix, new(@"Relay access denied|Recipient address rejected: User unknown in (local|virtual mailbox) table|Error: command not recognized", RegexOptions.IgnoreCase), "Postfix reply wording"),
        new(SmtpSoftware.Exim, new(@"relay not permitted|Unrouteable address|SMTP synchronization error", RegexOptions.IgnoreCase), "Exim reply wording"),
        new(SmtpSoftware.HMailServer, new(@"SMTP authentication is required\.", RegexOptions.IgnoreCase), "hMailServer reply wording"),
    ];

    /// <summary>Fingerprints from the greeting, EHLO reply and any other replies seen (in that order of trust).</summary>
    public static SmtpFingerprint Identify(string? greeting, string? ehlo, IEnumerable<string>? otherReplies = null)
    {
        foreach (var text in new[] { greeting, ehlo, otherReplies is null ? null : string.Join("\n", otherReplies) })
        {
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }
            foreach (var rule in Rules)
            {
                var m = rule.Pattern.Match(text);
                if (m.Success)
                {
                    var v = m.Groups["v"];
                    return new SmtpFingerprint(rule.Software, v.Success && v.Length > 0 ? v.Value : null, rule.Clue);
                }
            }
        }
        return new SmtpFingerprint(SmtpSoftware.Unknown, null, "no product named in greeting or replies");
    }
}
