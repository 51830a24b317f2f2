namespace Portcullis.Audit.Proxy;

/// <summary>
/// SSH server versions that HOPM's "ssh" scanner flags (catalog §5.2, ircd-hybrid/hopm reference.conf
/// <c>scanner "ssh"</c>): devices whose SSH service is used as an anonymous tunnel (port forwarding with
/// factory credentials). The banner must equal the listed version, as HOPM compares it.
/// </summary>
public static class SshBanners
{
    public static IReadOnlyDictionary<string, string> Abused { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["SSH-2.0-dropbear_0.52"] = "Dropbear 0.52, found on embedded routers with default passwords",
        ["SSH-2.0-ROSSSH"] = "MikroTik RouterOS, used as a tunnel with its default admin account",
    };

    /// <summary>Why the banner is listed, or null. Trailing comments after a space (RFC 4253 §4.2) are ignored.</summary>
    public static string? Listed(string banner)
    {
        var version = banner.Split(' ', 2)[0].TrimEnd('\r', '\n');
        return Abused.TryGetValue(version, out var why) ? why : null;
    }
}
