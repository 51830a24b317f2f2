using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace Portcullis.Server.Remote;

/// <summary>
/// MailKit's SmtpClient (>= 4.16.0: the STARTTLS buffer reset of CVE-2026-41319, catalog §3.2), changed
/// in two ways for a relaying MTA: a refused RCPT is recorded for that recipient instead of aborting the
/// transaction (per-recipient results), and the message is sent exactly as queued — no re-encoding, so
/// the DKIM signature made at submission still verifies.
/// </summary>
internal sealed class RecordingSmtpClient : SmtpClient
{
    private readonly Dictionary<string, SmtpResponse> _refused = new(StringComparer.OrdinalIgnoreCase);

    public RecordingSmtpClient(IProtocolLogger? protocolLogger = null)
        : base(protocolLogger ?? new NullProtocolLogger())
    {
    }

    /// <summary>Per-message DSN parameters to pass on (RFC 3461 §6.2: a relaying MTA keeps NOTIFY and ENVID).</summary>
    public Func<MailboxAddress, MailKit.DeliveryStatusNotification?>? Notify { get; set; }

    public string? EnvelopeId { get; set; }

    /// <summary>The RCPTs the server refused in the last transaction, by address.</summary>
    public IReadOnlyDictionary<string, SmtpResponse> Refused => _refused;

    public void BeginTransaction() => _refused.Clear();

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        _refused[mailbox.Address] = response;

    protected override void OnNoRecipientsAccepted(MimeMessage message)
    {
        // Every refusal is already recorded; MailKit then resets the transaction without sending DATA.
    }

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        // Deliberately empty: the queued bytes were normalised and signed at submission; re-encoding a
        // part here would break the DKIM body hash.
    }

    protected override string? GetEnvelopeId(MimeMessage message) => EnvelopeId;

    protected override MailKit.DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox) => Notify?.Invoke(mailbox);
}
