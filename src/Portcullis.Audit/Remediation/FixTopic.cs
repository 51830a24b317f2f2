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
}
