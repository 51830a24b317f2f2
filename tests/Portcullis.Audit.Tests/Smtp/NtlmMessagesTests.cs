using System.Buffers.Binary;
using System.Text;
using Portcullis.Audit.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>NTLMSSP NEGOTIATE encoding and CHALLENGE decoding against real byte layouts (MS-NLMP §2.2.1.1, §2.2.1.2, §2.2.2.1).</summary>
public sealed class NtlmMessagesTests
{
    [Fact]
    public void Negotiate_is_nmaps_32_byte_null_credential_blob()
    {
        var m = NtlmMessages.Negotiate();
        // The exact blob nmap's smtp-ntlm-info.nse sends after "AUTH NTLM".
        Assert.Equal("TlRMTVNTUAABAAAAB4IIoAAAAAAAAAAAAAAAAAAAAAA=", Convert.ToBase64String(m));
        // §2.2.1.1: Signature, MessageType = 1, NegotiateFlags, DomainNameFields and WorkstationFields empty.
        Assert.Equal("NTLMSSP\0"u8.ToArray(), m[..8]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(8)));
        Assert.Equal(0xa0088207u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(12)));
        Assert.All(m[16..], b => Assert.Equal(0, b));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(12)) & NtlmMessages.NegotiateVersion);
    }

    [Fact]
    public void Challenge_example_of_the_specification_discloses_target_names_and_version()
    {
        // MS-NLMP §4.2.4.3 (NTLMv2 CHALLENGE_MESSAGE), byte for byte.
        var m = Convert.FromHexString(
            "4e544c4d53535000020000000c000c00" +
            "3800000033828ae20123456789abcdef" +
            "00000000000000002400240044000000" +
            "060070170000000f5300650072007600" +
            "6500720002000c0044006f006d006100" +
            "69006e0001000c005300650072007600" +
            "6500720000000000");
        var c = NtlmMessages.ParseChallenge(m);
        Assert.Equal(0xe28a8233u, c.Flags);
        Assert.Equal("Server", c.TargetName);
        Assert.Equal("Domain", c.NetBiosDomain);
        Assert.Equal("Server", c.NetBiosComputer);
        Assert.Null(c.DnsDomain);
        Assert.Equal(new NtlmVersion(6, 0, 6000, 15), c.Version);
        Assert.Equal(["Target_Name: Server", "NetBIOS_Domain_Name: Domain", "NetBIOS_Computer_Name: Server", "Product_Version: 6.0.6000 (NTLM revision 15)"], c.Disclosed);
    }

    [Fact]
    public void Windows_server_challenge_discloses_dns_names_forest_and_build()
    {
        var c = NtlmMessages.ParseChallenge(WindowsChallenge());
        Assert.Equal("CONTOSO", c.TargetName);
        Assert.Equal("CONTOSO", c.NetBiosDomain);
        Assert.Equal("MAIL01", c.NetBiosComputer);
        Assert.Equal("contoso.local", c.DnsDomain);
        Assert.Equal("mail01.contoso.local", c.DnsComputer);
        Assert.Equal("corp.contoso.local", c.DnsTree);
        Assert.Equal("10.0.17763 (NTLM revision 15)", c.Version!.ToString());
        Assert.Contains("DNS_Computer_Name: mail01.contoso.local", c.Disclosed);
    }

    [Fact]
    public void Cyrus_sasl_challenge_captured_from_exim_discloses_the_host_name_only()
    {
        // Exim 4.96 (exim4-daemon-heavy) with a cyrus_sasl authenticator, server_mech = ntlm,
        // server_hostname = mx.ntlm.test: the 334 reply to nmap's NEGOTIATE.
        var c = NtlmMessages.ParseChallenge(Convert.FromBase64String("TlRMTVNTUAACAAAAGAAYADAAAAAFggIAm9wKoMGdMCQAAAAAAAAAAAAAAAAAAAAATQBYAC4ATgBUAEwATQAuAFQARQBTAFQA"));
        Assert.Equal("MX.NTLM.TEST", c.TargetName);
        Assert.Null(c.Version); // payload at 48 and no NTLMSSP_NEGOTIATE_VERSION: there is no Version field
        Assert.Equal(["Target_Name: MX.NTLM.TEST"], c.Disclosed);
    }

    [Fact]
    public void Exim_spa_challenge_without_target_discloses_nothing()
    {
        // Exim's spa_build_auth_challenge: 40 bytes, empty uDomain at offset 0x28, flags 0x00008201.
        var m = new byte[40];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(16), 0x28);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), 0x00008201);
        "\x01\x02\x03\x04\x05\x06\x07\x08"u8.CopyTo(m.AsSpan(24));
        var c = NtlmMessages.ParseChallenge(m);
        Assert.Null(c.TargetName);
        Assert.Empty(c.Disclosed);
    }

    [Theory]
    [InlineData("4e544c4d5353500003000000000000000000000000000000000000000000000000000000000000000000000000000000")] // AUTHENTICATE, not CHALLENGE
    [InlineData("4e544c4d53535001020000000000000000000000000000000000000000000000")] // bad signature
    [InlineData("4e544c4d535350000200000006000600f0000000")] // truncated
    [InlineData("4e544c4d5353500002000000060006000000010001820000000000000000000000000000000000000000000000000000")] // TargetName far outside
    public void Anything_but_a_well_formed_challenge_is_refused_with_a_format_error(string hex) =>
        Assert.Throws<FormatException>(() => NtlmMessages.ParseChallenge(Convert.FromHexString(hex)));

    [Fact]
    public void An_av_pair_running_past_the_target_info_is_refused()
    {
        var m = WindowsChallenge();
        // Shorten TargetInfoLen so the last pairs no longer fit.
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(40), 10);
        Assert.Throws<FormatException>(() => NtlmMessages.ParseChallenge(m));
    }

    /// <summary>A CHALLENGE laid out as Windows Server 2019 sends it (§2.2.1.2 with Version, §2.2.2.1 AV pairs, timestamp).</summary>
    private static byte[] WindowsChallenge()
    {
        static byte[] U(string s) => Encoding.Unicode.GetBytes(s);
        var info = new List<byte>();
        void Pair(ushort id, byte[] value)
        {
            info.AddRange(BitConverter.GetBytes(id));
            info.AddRange(BitConverter.GetBytes((ushort)value.Length));
            info.AddRange(value);
        }
        Pair(2, U("CONTOSO"));
        Pair(1, U("MAIL01"));
        Pair(4, U("contoso.local"));
        Pair(3, U("mail01.contoso.local"));
        Pair(5, U("corp.contoso.local"));
        Pair(7, BitConverter.GetBytes(133000000000000000L)); // MsvAvTimestamp: nothing to disclose
        Pair(0, []);
        var target = U("CONTOSO");
        var m = new byte[56 + target.Length + info.Count];
        "NTLMSSP\0"u8.CopyTo(m);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(8), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(12), (ushort)target.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(14), (ushort)target.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(16), 56);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), 0xe28a8215);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(40), (ushort)info.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(42), (ushort)info.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(44), (uint)(56 + target.Length));
        // Version: 10.0 build 17763, NTLMSSP_REVISION_W2K3 (15).
        m[48] = 10;
        m[49] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(50), 17763);
        m[55] = 15;
        target.CopyTo(m, 56);
        info.ToArray().CopyTo(m, 56 + target.Length);
        return m;
    }
}
