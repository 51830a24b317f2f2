namespace Portcullis.Audit.Remediation;

/// <summary>What a failed check asks the administrator to change; the remediation table is keyed by it.</summary>
public enum FixTopic
{
    /// <summary>Relays for anyone (plain third-party relay accepted).</summary>
    OpenRelay,
    /// <summary>Relays sender-routed recipients: %, !, quoted @, double @, source routes (catalog §1.1, §1.5).</summary>
    RoutingTrick,
    /// <summary>Trusts a HELO name or a forged local sender for relaying (catalog §1.4, §1.5).</summary>
    SenderOrHeloTrust,
    Smuggling,
    StartTlsInjection,
    StartTlsMissing,
    Certificate,
    AuthBeforeTls,
    Vrfy,
    Expn,
    RcptEnumeration,
    Backscatter,
    Postmaster,
    Abuse,
    Banner,
    LineHandling,
    HeloSyntax,
    RecipientLimit,
    /// <summary>Runs commands sent before their turn (no PIPELINING negotiated; catalog §2.3 "pipelining").</summary>
    Pipelining,
    /// <summary>Accepts paths over the RFC 5321 §4.5.3.1 limits.</summary>
    PathLimits,
    /// <summary>Offers AUTH NTLM to anyone: its CHALLENGE discloses host, domain and OS build (catalog §4).</summary>
    NtlmInfo,
    /// <summary>No PTR, a PTR that is not forward-confirmed, or a greeting name that differs (catalog §4, deliverability).</summary>
    ReverseDns,
    /// <summary>Undeclared 8-bit data treated differently in headers and body (catalog §4, RFC 5321 §4.5.2).</summary>
    EightBit,
    /// <summary>Takes a DATA text line over 1000 octets (RFC 5321 §4.5.3.1.6): must not be split; a proven split fails.</summary>
    LongDataLine,
    /// <summary>Takes a message with a NUL octet in a header (catalog §4 "NUL / control bytes").</summary>
    HeaderNul,
    /// <summary>Sends success notices (NOTIFY=SUCCESS, RFC 3461) to senders nobody verified: a reflector.</summary>
    DsnReflection,
}
