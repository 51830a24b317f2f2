using System.Security.Cryptography;
using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp.Checks;

/// <summary>
/// One test transaction to the --rcpt mailbox for the message-content checks of catalog §4: plain MAIL FROM
/// (no BODY=, no SMTPUTF8), RCPT, DATA, the message exactly as given, then the real end of data.
/// </summary>
public static class TestMessage
{
    /// <summary>
    /// The header block of a test message (From, To, the given Subject, a fresh Message-ID) and the empty
    /// line that ends it. The subject is written as given: a check may put octets above 0x7f or NUL in it.
    /// </summary>
    public static string Header(string rcpt, string subject)
    {
        var domain = rcpt[(rcpt.LastIndexOf('@') + 1)..];
        var msgId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return $"From: <audit@{domain}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\nMessage-ID: <{msgId}@portcullis.invalid>\r\n\r\n";
    }

    /// <summary>
    /// Sends <paramref name="message"/> (header and body lines, each ending CRLF; the characters above 0x7f
    /// are written as single octets) and returns the end-of-data reply. Reply null with a reason when the
    /// transaction never reached the message (recipient refused, DATA refused): that says nothing about the
    /// content. A 4xx to DATA comes back as the reply (a deferral: inconclusive for every check).
    /// </summary>
    public static async Task<(SmtpReply? Reply, string? Why)> SendAsync(SmtpProbe p, string rcpt, string what, string message, CancellationToken ct)
    {
        var domain = rcpt[(rcpt.LastIndexOf('@') + 1)..];
        var mail = SessionOpener.NotClosing(await p.CommandAsync($"MAIL FROM:<audit@{domain}>", ct).ConfigureAwait(false));
        var rc = mail.IsPositive ? SessionOpener.NotClosing(await p.CommandAsync($"RCPT TO:<{rcpt}>", ct).ConfigureAwait(false)) : mail;
        if (!rc.IsPositive)
        {
            return (null, $"--rcpt {rcpt} was not accepted: {rc}");
        }
        var data = await p.CommandAsync("DATA", ct).ConfigureAwait(false);
        if (data.Code != 354)
        {
            // A 5xx to DATA is the server refusing this transaction before seeing any octet: unknown, not a verdict.
            return (data.Class == 5 ? null : data, data.Class == 5 ? $"DATA refused before the {what} was sent: {data}" : null);
        }
        await p.SendRawAsync(message + ".\r\n", ct).ConfigureAwait(false);
        return (await p.ReadReplyAsync(ct).ConfigureAwait(false), null);
    }
}
