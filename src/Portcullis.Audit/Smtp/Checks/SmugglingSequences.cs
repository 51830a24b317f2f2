namespace Portcullis.Audit.Smtp.Checks;

/// <summary>A non-standard end-of-data sequence (catalog §2.2) and whether a conforming sender can be made to emit it.</summary>
public sealed record SmugglingSequence(string Name, string Bytes, bool ConformingSenderCanEmit);

/// <summary>The table of catalog §2.2: smtpsmug's names, exact bytes, and the rows the tools removed.</summary>
public static class SmugglingSequences
{
    public static IReadOnlyList<SmugglingSequence> All { get; } =
    [
        new("lflf", "\n.\n", true),
        new("lfcr", "\n.\r", true),
        new("crlf", "\r.\n", true),
        new("crcr", "\r.\r", true),
        new("lfcrlf", "\n.\r\n", true),
        new("crcrlf", "\r.\r\n", true),
        new("nullbefore", "\r\n\0.\r\n", true),
        // "An attacker cannot cause a mail service to send <CRLF>.<non-CRLF>" (Wietse Venema, smtpsmug#8):
        // strict rejection is still expected, so these are reported, at low severity.
        new("crlflf", "\r\n.\n", false),
        new("crlfcr", "\r\n.\r", false),
        new("nullafter", "\r\n.\0\r\n", false),
        new("postfix-crcrlf", "\r\n.\r\r\n", false),
        new("postfix-crcrcrlf", "\r\r\n.\r\r\n", false),
    ];
}
