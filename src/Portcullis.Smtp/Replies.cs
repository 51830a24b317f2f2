namespace Portcullis.Smtp;

/// <summary>
/// The replies the server sends, named for what they mean. Keeping them in one place keeps the codes
/// and enhanced status codes (RFC 3463) consistent and reviewable.
/// </summary>
public static class Replies
{
    // 2xx
    public static SmtpReply Ok(string text = "Ok") => new(250, "2.0.0", text);
    public static readonly SmtpReply SenderOk = new(250, "2.1.0", "Sender ok");
    public static readonly SmtpReply RecipientOk = new(250, "2.1.5", "Recipient ok");
    public static readonly SmtpReply ResetOk = new(250, "2.0.0", "Reset state");
    public static readonly SmtpReply NoopOk = new(250, "2.0.0", "Ok");
    public static readonly SmtpReply Bye = new(221, "2.0.0", "Bye");
    public static readonly SmtpReply ReadyForTls = new(220, "2.0.0", "Ready to start TLS");

    /// <summary>RFC 5321 §3.5.3 / §7.3: a server that does not verify must answer 252, never 250.</summary>
    public static readonly SmtpReply CannotVerify = new(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");

    public static readonly SmtpReply StartMailInput = new(354, null, "End data with <CR><LF>.<CR><LF>");

    // 4xx
    public static readonly SmtpReply TransientLocalError = new(451, "4.3.0", "Local error in processing; try again later");
    public static readonly SmtpReply TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly SmtpReply TooManyErrors = new(421, "4.7.0", "Too many errors; closing connection");
    public static readonly SmtpReply TooManyConnections = new(421, "4.7.0", "Too many connections; try again later");
    public static readonly SmtpReply TooManyConnectionsFromYou = new(421, "4.7.0", "Too many connections from your address; try again later");
    public static readonly SmtpReply Timeout = new(421, "4.4.2", "Timeout exceeded; closing connection");
    public static readonly SmtpReply ShuttingDown = new(421, "4.3.2", "Service shutting down; try again later");
    public static readonly SmtpReply TlsUnavailable = new(454, "4.7.0", "TLS not available");

    // 5xx: protocol
    public static readonly SmtpReply CommandUnrecognized = new(500, "5.5.1", "Command unrecognized");
    public static readonly SmtpReply LineTooLong = new(500, "5.5.6", "Line too long (RFC 5321 §4.5.3.1.4: 512 octets)");
    public static readonly SmtpReply BareLineEnding = new(500, "5.5.2", "Bare CR or LF received; only CRLF ends a line (RFC 5321 §2.3.8)");
    public static readonly SmtpReply NulReceived = new(500, "5.5.2", "NUL character received");
    public static readonly SmtpReply SyntaxError = new(501, "5.5.4", "Syntax error in parameters or arguments");
    public static readonly SmtpReply NotImplemented = new(502, "5.5.1", "Command not implemented");
    public static readonly SmtpReply ExpnDisabled = new(502, "5.5.1", "EXPN is disabled");
    public static readonly SmtpReply BadSequence = new(503, "5.5.1", "Bad sequence of commands");
    public static readonly SmtpReply NeedHelo = new(503, "5.5.1", "Send EHLO or HELO first");
    public static readonly SmtpReply NeedMail = new(503, "5.5.1", "Need MAIL command first");
    public static readonly SmtpReply NeedRcpt = new(503, "5.5.1", "Need RCPT command first");
    public static readonly SmtpReply NestedMail = new(503, "5.5.1", "Sender already specified");
    public static readonly SmtpReply ParameterNotImplemented = new(555, "5.5.4", "Unsupported MAIL/RCPT parameter");
    public static readonly SmtpReply ProtocolSynchronization = new(554, "5.5.0", "Error: SMTP protocol synchronization");
    public static readonly SmtpReply AlreadyTls = new(503, "5.5.1", "TLS already active");

    // 5xx: addresses and policy
    public static readonly SmtpReply BadSenderSyntax = new(501, "5.1.7", "Bad sender address syntax");
    public static readonly SmtpReply BadRecipientSyntax = new(501, "5.1.3", "Bad recipient address syntax");
    public static readonly SmtpReply PathTooLong = new(501, "5.1.3", "Path too long (RFC 5321 §4.5.3.1)");
    public static readonly SmtpReply UnknownUser = new(550, "5.1.1", "Recipient address rejected: user unknown");
    public static readonly SmtpReply UnqualifiedRecipient = new(550, "5.1.3", "Recipient address rejected: need a fully-qualified address");

    /// <summary>RFC 5321 §3.6.2: refusing to relay for policy reasons SHOULD use 550.</summary>
    public static readonly SmtpReply RelayDenied = new(550, "5.7.1", "Relay access denied");
    public static readonly SmtpReply SenderRoutingDenied = new(550, "5.7.1", "Relay access denied: sender-specified routing is not allowed");
    public static readonly SmtpReply MessageTooBig = new(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static readonly SmtpReply DataLineTooLong = new(550, "5.6.0", "Message has a line longer than 1000 octets (RFC 5321 §4.5.3.1.6)");
    public static readonly SmtpReply DataBareLineEnding = new(550, "5.6.0", "Message contains a bare CR or LF; only CRLF ends a line (RFC 5321 §2.3.8, §4.1.1.4)");
    public static readonly SmtpReply DataNul = new(550, "5.6.0", "Message contains a NUL character");
    public static readonly SmtpReply SmtpUtf8Required = new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    public static readonly SmtpReply AuthRequired = new(530, "5.7.0", "Authentication required");
    public static readonly SmtpReply EncryptionRequired = new(530, "5.7.0", "Must issue a STARTTLS command first");
}
