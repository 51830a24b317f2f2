namespace Portcullis.Server.Remote;

/// <summary>
/// Why a remote attempt did not deliver: temporary (retry later) or permanent (bounce now), with the
/// enhanced status code (RFC 3463) and the text that goes into the log, the queue's last_error and the
/// DSN's Diagnostic-Code (RFC 3464 §2.3.6).
/// </summary>
public sealed record RemoteFailure(bool Permanent, string Status, string Diagnostic, string? RemoteMta = null)
{
    public static RemoteFailure Temporary(string status, string diagnostic, string? remoteMta = null) => new(false, status, diagnostic, remoteMta);

    public static RemoteFailure Fatal(string status, string diagnostic, string? remoteMta = null) => new(true, status, diagnostic, remoteMta);

    /// <summary>From a remote SMTP reply: 5xx is permanent, anything else temporary (RFC 5321 §4.2.1).</summary>
    public static RemoteFailure FromReply(int code, string text, string remoteMta)
    {
        var status = EnhancedStatus(text) ?? (code >= 500 ? "5.0.0" : "4.0.0");
        return new RemoteFailure(code >= 500, status, $"{code} {text}".Trim(), remoteMta);
    }

    /// <summary>The enhanced status code at the start of a reply text, if any ("5.1.1 unknown user").</summary>
    private static string? EnhancedStatus(string text)
    {
        var first = text.Split(' ', 2)[0];
        var parts = first.Split('.');
        return parts.Length == 3 && parts[0] is "2" or "4" or "5" && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)) ? first : null;
    }

    /// <summary>One line for the queue's last_error and the log.</summary>
    public override string ToString() => RemoteMta is null ? Diagnostic : $"{RemoteMta} said: {Diagnostic}";
}
