namespace Portcullis.Audit.Smtp;

/// <summary>
/// One relay test, ready to send: the EHLO name (null = the auditor's usual one), the MAIL FROM and RCPT TO
/// arguments exactly as they go on the wire (angle brackets included or, for the RFC 822 vectors,
/// deliberately missing), and where the vector comes from.
/// </summary>
public sealed record RelayVector(string Id, string Trick, string Source, string? Helo, string MailFrom, string RcptTo)
{
    /// <summary>The canary token carried in the RCPT local part, Subject and body (null without a canary).</summary>
    public string? Token { get; init; }
}

/// <summary>
/// A vector before substitution. Placeholders: {to} relay local part (carries the canary token), {dest} the
/// relay destination domain, {DEST} the same in upper case, {from} the forged local part, {host} one of the
/// target's names (banner, EHLO, typed, parents), {HOST} that name in upper case, {ip} the target's address
/// literal, {d} one of DSBL's domains ([127.0.0.1], localhost, the address literal, the target's names).
/// </summary>
public sealed record RelayVectorTemplate(string Id, string Trick, string Source, string MailFrom, string RcptTo, string? Helo = null)
{
    public bool PerHost => MailFrom.Contains("{host}", StringComparison.Ordinal) || RcptTo.Contains("{host}", StringComparison.Ordinal)
        || MailFrom.Contains("{HOST}", StringComparison.Ordinal) || RcptTo.Contains("{HOST}", StringComparison.Ordinal)
        || (Helo?.Contains("{host}", StringComparison.Ordinal) ?? false);

    public bool PerDsblDomain => MailFrom.Contains("{d}", StringComparison.Ordinal) || RcptTo.Contains("{d}", StringComparison.Ordinal);
}
