using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Portcullis.Audit.Smtp;

/// <summary>The OS version a CHALLENGE carries (MS-NLMP §2.2.2.10 VERSION): e.g. 10.0 build 17763.</summary>
public sealed record NtlmVersion(int Major, int Minor, int Build, int Revision)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Build} (NTLM revision {Revision})");
}

/// <summary>
/// What a server's NTLM CHALLENGE_MESSAGE (MS-NLMP §2.2.1.2) says about it: the target name and the
/// AV pairs of its target info (§2.2.2.1), and the OS version. These are the values nmap's
/// smtp-ntlm-info.nse prints; a null field was not in the message.
/// </summary>
public sealed record NtlmChallenge
{
    public required uint Flags { get; init; }
    public string? TargetName { get; init; }
    public string? NetBiosComputer { get; init; }
    public string? NetBiosDomain { get; init; }
    public string? DnsComputer { get; init; }
    public string? DnsDomain { get; init; }
    public string? DnsTree { get; init; }
    public NtlmVersion? Version { get; init; }

    /// <summary>The disclosed values, labelled as nmap labels them; empty when the challenge names nothing.</summary>
    public IReadOnlyList<string> Disclosed => new (string Label, object? Value)[]
    {
        ("Target_Name", TargetName), ("NetBIOS_Domain_Name", NetBiosDomain), ("NetBIOS_Computer_Name", NetBiosComputer),
        ("DNS_Domain_Name", DnsDomain), ("DNS_Computer_Name", DnsComputer), ("DNS_Tree_Name", DnsTree), ("Product_Version", Version),
    }.Where(x => x.Value is not null && x.Value.ToString()!.Length > 0).Select(x => $"{x.Label}: {x.Value}").ToList();
}

/// <summary>
/// The two NTLMSSP messages the auditor handles (MS-NLMP §2.2.1.1 NEGOTIATE, §2.2.1.2 CHALLENGE). The
/// auditor only asks for the challenge and never authenticates: it sends a NEGOTIATE with no domain and no
/// workstation (null credentials, as smtp-ntlm-info.nse does), reads what the CHALLENGE discloses, then
/// cancels the exchange with "*" (RFC 4954 §4).
/// </summary>
public static class NtlmMessages
{
    /// <summary>"NTLMSSP\0" (MS-NLMP §2.2.1.1 Signature).</summary>
    public static ReadOnlySpan<byte> Signature => "NTLMSSP\0"u8;

    public const uint NegotiateUnicode = 0x00000001;
    public const uint NegotiateOem = 0x00000002;
    public const uint RequestTarget = 0x00000004;
    public const uint NegotiateNtlm = 0x00000200;
    public const uint NegotiateAlwaysSign = 0x00008000;
    public const uint NegotiateExtendedSessionSecurity = 0x00080000;
    public const uint NegotiateTargetInfo = 0x00800000;
    public const uint NegotiateVersion = 0x02000000;
    public const uint Negotiate128 = 0x20000000;
    public const uint Negotiate56 = 0x80000000;

    /// <summary>The NEGOTIATE flags of nmap's smtp-ntlm-info.nse blob (0xa0088207).</summary>
    public const uint ProbeFlags = NegotiateUnicode | NegotiateOem | RequestTarget | NegotiateNtlm | NegotiateAlwaysSign
        | NegotiateExtendedSessionSecurity | Negotiate128 | Negotiate56;

    /// <summary>
    /// A 32-byte NEGOTIATE_MESSAGE: signature, MessageType 1, flags, then empty DomainNameFields and
    /// WorkstationFields (Len 0, MaxLen 0, Offset 0). No Version field: NTLMSSP_NEGOTIATE_VERSION is not set.
    /// </summary>
    public static byte[] Negotiate()
    {
        var m = new byte[32];
        Signature.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(12), ProbeFlags);
        return m; // bytes 16-31: two empty security buffers
    }

    /// <summary>MS-NLMP §2.2.2.1 AvId values.</summary>
    private enum AvId : ushort
    {
        Eol = 0,
        NbComputerName = 1,
        NbDomainName = 2,
        DnsComputerName = 3,
        DnsDomainName = 4,
        DnsTreeName = 5,
    }

    /// <summary>Decodes a CHALLENGE_MESSAGE. Throws <see cref="FormatException"/> for anything that is not one.</summary>
    public static NtlmChallenge ParseChallenge(ReadOnlySpan<byte> m)
    {
        // Fixed part up to and including TargetInfoFields: 48 bytes (§2.2.1.2).
        if (m.Length < 32 || !m[..8].SequenceEqual(Signature))
        {
            throw new FormatException("not an NTLMSSP message");
        }
        var type = BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
        if (type != 2)
        {
            throw new FormatException($"NTLMSSP message type {type}, expected 2 (CHALLENGE)");
        }
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(m[20..]);
        var (nameLen, nameOffset) = Field(m, 12);
        var firstPayload = int.MaxValue;
        string? targetName = null;
        if (nameLen > 0)
        {
            var bytes = Slice(m, nameLen, nameOffset, "TargetName");
            firstPayload = nameOffset;
            // The TargetName is UTF-16LE when NTLMSSP_NEGOTIATE_UNICODE was chosen, OEM otherwise (§2.2.1.2).
            targetName = (flags & NegotiateUnicode) != 0 ? Encoding.Unicode.GetString(bytes) : Encoding.Latin1.GetString(bytes);
        }
        var result = new NtlmChallenge { Flags = flags, TargetName = targetName };
        // Old servers (Exchange 5.5, Exim's spa) send a 32- or 40-byte message without TargetInfoFields.
        if (m.Length >= 48)
        {
            var (infoLen, infoOffset) = Field(m, 40);
            if (infoLen > 0)
            {
                firstPayload = Math.Min(firstPayload, infoOffset);
                result = ReadAvPairs(Slice(m, infoLen, infoOffset, "TargetInfo"), result);
            }
        }
        // The 8-byte Version follows the fixed part when NTLMSSP_NEGOTIATE_VERSION is set, or when the payload
        // starts late enough to leave room for it (Windows fills it in either way).
        if (m.Length >= 56 && ((flags & NegotiateVersion) != 0 || firstPayload is >= 56 and < int.MaxValue))
        {
            var v = m[48..56];
            result = result with { Version = new NtlmVersion(v[0], v[1], BinaryPrimitives.ReadUInt16LittleEndian(v[2..]), v[7]) };
        }
        return result;
    }

    private static (int Len, int Offset) Field(ReadOnlySpan<byte> m, int at) =>
        (BinaryPrimitives.ReadUInt16LittleEndian(m[at..]), (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(m[(at + 4)..]), int.MaxValue));

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> m, int len, int offset, string what) =>
        offset < 0 || offset > m.Length || len > m.Length - offset
            ? throw new FormatException($"{what} ({len} bytes at {offset}) lies outside the {m.Length}-byte message")
            : m.Slice(offset, len);

    /// <summary>AV_PAIRs (§2.2.2.1): AvId (2), AvLen (2), Value; ends at MsvAvEOL. Names are UTF-16LE.</summary>
    private static NtlmChallenge ReadAvPairs(ReadOnlySpan<byte> info, NtlmChallenge c)
    {
        var at = 0;
        while (at + 4 <= info.Length)
        {
            var id = (AvId)BinaryPrimitives.ReadUInt16LittleEndian(info[at..]);
            var len = BinaryPrimitives.ReadUInt16LittleEndian(info[(at + 2)..]);
            if (id == AvId.Eol)
            {
                return c;
            }
            if (at + 4 + len > info.Length)
            {
                throw new FormatException($"AV pair {(ushort)id} of {len} bytes runs past the TargetInfo");
            }
            var text = Encoding.Unicode.GetString(info.Slice(at + 4, len));
            c = id switch
            {
                AvId.NbComputerName => c with { NetBiosComputer = text },
                AvId.NbDomainName => c with { NetBiosDomain = text },
                AvId.DnsComputerName => c with { DnsComputer = text },
                AvId.DnsDomainName => c with { DnsDomain = text },
                AvId.DnsTreeName => c with { DnsTree = text },
                _ => c, // flags, timestamp, channel bindings: nothing to disclose
            };
            at += 4 + len;
        }
        return c;
    }
}
