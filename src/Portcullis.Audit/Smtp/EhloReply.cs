using Portcullis.Smtp;

namespace Portcullis.Audit.Smtp;

/// <summary>The EHLO reply split into the server's name and its ESMTP keywords (RFC 5321 §4.1.1.1).</summary>
public sealed record EhloReply(SmtpReply Reply)
{
    public bool Ok => Reply.Code == 250;

    /// <summary>The first word of the first line: the server's own name.</summary>
    public string? HostName => Reply.Lines.Count > 0 ? Reply.Lines[0].Split(' ', 2)[0] : null;

    public IEnumerable<string> Keywords => Reply.Lines.Skip(1).Select(l => l.Trim());

    public bool Has(string keyword) => Keywords.Any(k => k.Split(' ', 2)[0].Equals(keyword, StringComparison.OrdinalIgnoreCase));

    /// <summary>The AUTH mechanisms offered (empty when AUTH is not offered).</summary>
    public IReadOnlyList<string> AuthMechanisms => Keywords
        .Where(k => k.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase) || k.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
        .SelectMany(k => k[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(m => m.ToUpperInvariant()).Distinct().ToList();
}
