using System.Globalization;
using System.Net;
using System.Text;

namespace Portcullis.Server.Smtp;

/// <summary>The trace header every SMTP server adds (RFC 5321 §4.4), with the protocol names of RFC 3848.</summary>
public static class ReceivedHeader
{
    public static string Build(string? helo, IPAddress client, string hostname, string protocol, string queueId, string? singleRecipient, DateTimeOffset when)
    {
        var ip = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        var literal = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "IPv6:" + ip : ip.ToString();
        var sb = new StringBuilder();
        sb.Append("Received: from ").Append(Sanitize(helo) ?? "unknown").Append(" ([").Append(literal).Append("])\r\n");
        sb.Append("\tby ").Append(hostname).Append(" (Portcullis) with ").Append(protocol).Append(" id ").Append(queueId);
        if (singleRecipient is not null)
        {
            sb.Append("\r\n\tfor <").Append(singleRecipient).Append('>');
        }
        sb.Append("; ").Append(when.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture))
          .Append(when.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal)).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>RFC 3848: ESMTP, plus S for TLS and A for authenticated.</summary>
    public static string Protocol(bool esmtp, bool tls, bool authenticated) =>
        !esmtp ? "SMTP" : "ESMTP" + (tls ? "S" : "") + (authenticated ? "A" : "");

    // The HELO name is the client's word: keep it to printable ASCII without header-breaking characters.
    private static string? Sanitize(string? s) =>
        string.IsNullOrEmpty(s) ? null : new string(s.Where(c => c is > ' ' and < (char)127 and not '(' and not ')').Take(255).ToArray());
}
