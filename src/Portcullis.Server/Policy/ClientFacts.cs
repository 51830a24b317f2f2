using System.Net;

namespace Portcullis.Server.Policy;

/// <summary>Which door the client came through.</summary>
public enum ListenerKind
{
    /// <summary>Inbound MX, port 25: mail for local users only, no AUTH.</summary>
    Mx,
    /// <summary>Submission, 587 with STARTTLS (RFC 6409).</summary>
    Submission,
    /// <summary>Submission with implicit TLS, 465 (RFC 8314).</summary>
    Submissions,
}

public static class ListenerKindNames
{
    /// <summary>The listener's name as in its setting (listeners.mx, ...): in messages and metric labels. Constants, so a hot path allocates nothing.</summary>
    public static string SettingName(this ListenerKind kind) => kind switch
    {
        ListenerKind.Mx => "mx",
        ListenerKind.Submission => "submission",
        ListenerKind.Submissions => "submissions",
        _ => "unknown",
    };
}

/// <summary>
/// What the server knows about the client when it judges an address: where it connected from, through
/// which listener, whether TLS is up and who authenticated. HELO is deliberately absent: a HELO name
/// never grants anything (catalog §1.4 "HELO spoofing", §4 "HELO checks").
/// </summary>
public sealed record ClientFacts(IPAddress Address, ListenerKind Listener, bool Tls, string? AuthenticatedUser, bool InTrustedNetwork)
{
    public bool IsSubmission => Listener is ListenerKind.Submission or ListenerKind.Submissions;

    /// <summary>
    /// May this client send to other domains? Only an authenticated user, or a trusted network on a
    /// submission listener. The MX listener never relays (DESIGN principle 1).
    /// </summary>
    public bool MayRelay => IsSubmission && (AuthenticatedUser is not null || InTrustedNetwork);
}
