namespace Portcullis.Audit.Proxy;

/// <summary>How one protocol attempt towards one destination ended (catalog §5, issue 5's verdict rules).</summary>
public enum ProbeResult
{
    /// <summary>The canary token or the mail server's greeting came back through the proxy: open.</summary>
    Proven,
    /// <summary>The proxy said yes (200, 0x5A, 05 00) but no proof came back: "grants but did not connect".</summary>
    GrantedNoConnect,
    /// <summary>The proxy refused the request (403, 0x5B, REP != 0, an error line).</summary>
    Refused,
    /// <summary>The proxy wants credentials (407, SOCKS5 05 02 / 05 FF, "Password:").</summary>
    AuthRequired,
    /// <summary>The port accepted the connection and closed it without a reply.</summary>
    ConnectionClosed,
    /// <summary>The port answered, but not in this protocol.</summary>
    OtherProtocol,
    /// <summary>The port accepted the connection but never answered within the time allowed.</summary>
    NoAnswer,
    /// <summary>The TCP connection to the port failed (refused, unreachable, timed out).</summary>
    Unreachable,
    /// <summary>
    /// Suspect but not proven: the port's SSH banner is one HOPM lists as abused (catalog §5.2, "SSH banner";
    /// proving it would mean logging in with default credentials), or a router/receiver took its factory
    /// password but the way out brought no proof. Never "open".
    /// </summary>
    Suspect,
}

/// <summary>One protocol, one port, one destination: the result, a one-line summary, and the bytes.</summary>
public sealed record ProbeOutcome(
    ProxyProtocol Protocol,
    int Port,
    string Destination,
    ProbeResult Result,
    string Summary,
    string Evidence)
{
    /// <summary>The TLS handshake to the port failed or went unanswered (HTTPS types): true of the port, whatever is asked next.</summary>
    public bool TlsHandshakeFailed { get; init; }

    /// <summary>How long the port took to answer our first request (any answer, a grant included); null when it did not.</summary>
    public TimeSpan? FirstReply { get; init; }

    /// <summary>Anything but silence: the port spoke, refused, closed or granted.</summary>
    public bool Answered => Result is not (ProbeResult.NoAnswer or ProbeResult.Unreachable);
}
