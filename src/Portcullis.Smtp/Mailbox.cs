namespace Portcullis.Smtp;

/// <summary>
/// A mailbox as written in an SMTP path (RFC 5321 §4.1.2): local part and domain. The local part is
/// kept dequoted (quoted-pairs resolved), with <see cref="LocalPartWasQuoted"/> remembering the quoting,
/// because a quoted "@" or "%" is exactly what relay tricks hide (catalog §1.1 #7-#10).
/// </summary>
public sealed record Mailbox(string LocalPart, string Domain, bool LocalPartWasQuoted = false)
{
    /// <summary>True for an address literal such as [192.0.2.1] or [IPv6:::1].</summary>
    public bool IsAddressLiteral => Domain.StartsWith('[');

    /// <summary>True when no domain was given (only legal for &lt;Postmaster&gt;, RFC 5321 §4.1.1.3).</summary>
    public bool IsUnqualified => Domain.Length == 0;

    public bool HasNonAscii => LocalPart.Any(c => c > 127) || Domain.Any(c => c > 127);

    /// <summary>The address in canonical text form, quoting the local part when it needs it.</summary>
    public string Address => IsUnqualified ? QuotedLocalPart : QuotedLocalPart + "@" + Domain;

    public string QuotedLocalPart => NeedsQuoting(LocalPart) ? Quote(LocalPart) : LocalPart;

    public override string ToString() => Address;

    private static bool NeedsQuoting(string local)
    {
        if (local.Length == 0 || local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return true;
        }
        return local.Any(c => c != '.' && !PathParser.IsAtext(c));
    }

    private static string Quote(string local) =>
        "\"" + local.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>A reverse-path or forward-path: the mailbox (null for the null path &lt;&gt;) and any RFC 821 source route.</summary>
public sealed record MailPath(Mailbox? Mailbox, IReadOnlyList<string> SourceRoute)
{
    public static readonly MailPath Null = new(null, []);

    public bool IsNull => Mailbox is null;

    public bool HasSourceRoute => SourceRoute.Count > 0;

    public override string ToString() =>
        Mailbox is null ? "<>" : "<" + (HasSourceRoute ? string.Join(",", SourceRoute.Select(d => "@" + d)) + ":" : "") + Mailbox.Address + ">";
}
