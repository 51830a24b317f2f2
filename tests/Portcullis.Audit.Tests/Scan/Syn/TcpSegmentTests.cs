using Portcullis.Audit.Scan.Syn;

namespace Portcullis.Audit.Tests.Scan.Syn;

/// <summary>
/// The SYN we send, byte for byte, and the replies we read. Loopback does not verify TCP checksums, so the
/// end-to-end tests cannot catch a wrong one: the expected bytes here were computed independently (RFC 1071
/// sum over the RFC 9293 §3.1 pseudo-header in a separate Python implementation).
/// </summary>
public class TcpSegmentTests
{
    private static uint Ip(byte a, byte b, byte c, byte d) => ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    [Fact]
    public void Syn_has_the_known_good_layout_and_checksum()
    {
        var segment = new byte[TcpSegment.SynLength];
        TcpSegment.WriteSyn(segment, Ip(192, 0, 2, 1), Ip(198, 51, 100, 7), 40000, 25, 0x01020304);
        Assert.Equal("9c400019010203040000000060020400078b0000020405b4", Convert.ToHexStringLower(segment));
    }

    [Fact]
    public void Syn_packet_is_the_known_good_ipv4_header_then_the_syn()
    {
        var packet = new byte[TcpSegment.SynPacketLength];
        TcpSegment.WriteSynPacket(packet, Ip(192, 0, 2, 1), Ip(198, 51, 100, 7), 40000, 25, 0x01020304);
        // IPv4: version 4, IHL 5, length 44, id 0, no fragmentation, TTL 64, TCP, header checksum 0x8e90.
        Assert.Equal("4500002c0000000040068e90c0000201c6336407" + "9c400019010203040000000060020400078b0000020405b4", Convert.ToHexStringLower(packet));
        Assert.Equal(0, TcpSegment.HeaderChecksum(packet.AsSpan(0, 20)));
    }

    [Fact]
    public void Loopback_syn_checksum_matches_the_independent_computation()
    {
        var segment = new byte[TcpSegment.SynLength];
        TcpSegment.WriteSyn(segment, Ip(127, 0, 0, 1), Ip(127, 16, 0, 5), 12345, 8080, 0xdeadbeef);
        Assert.Equal(0xa8a9, (segment[16] << 8) | segment[17]);
    }

    [Theory]
    [InlineData(1u, 2u, 1, 2, 0u)]
    [InlineData(0xffffffffu, 0x7f000001u, 65535, 1, 0xffffffffu)]
    [InlineData(0x0a000001u, 0xc0a80101u, 33000, 3128, 0x80000000u)]
    public void A_written_syn_verifies_a_checksum_sum_of_zero(uint source, uint target, int sourcePort, int targetPort, uint sequence)
    {
        // RFC 1071 §1: the receiver's sum over the segment including its checksum field is all ones, so
        // recomputing "the checksum" over a correct segment gives 0.
        var segment = new byte[TcpSegment.SynLength];
        TcpSegment.WriteSyn(segment, source, target, sourcePort, targetPort, sequence);
        Assert.Equal(0, TcpSegment.Checksum(source, target, segment));
        segment[7] ^= 1;
        Assert.NotEqual(0, TcpSegment.Checksum(source, target, segment));
    }

    [Fact]
    public void Odd_length_segments_are_padded_with_a_zero_byte()
    {
        // Pseudo-header 0.0.0.1 -> 0.0.0.2, protocol 6, length 3; data ab cd ef 00 (computed independently).
        Assert.Equal(0x6525, TcpSegment.Checksum(1, 2, [0xab, 0xcd, 0xef]));
    }

    [Fact]
    public void A_syn_ack_packet_is_read_field_by_field()
    {
        // IPv4 (IHL 5, no options) from 127.16.0.5 to 127.0.0.1, TCP 8080 -> 12345, SYN+ACK, seq 0x11223344, ack 0xdeadbef0.
        var packet = Convert.FromHexString(
            "4500002c0000400040060000" + "7f100005" + "7f000001" +
            "1f903039" + "11223344" + "deadbef0" + "6012ffd7" + "00000000" + "020405b4");
        Assert.True(TcpSegment.TryParseIPv4(packet, out var r));
        Assert.Equal(new TcpReply(Ip(127, 16, 0, 5), Ip(127, 0, 0, 1), 8080, 12345, 0x11223344, 0xdeadbef0, TcpFlags.Syn | TcpFlags.Ack), r);
    }

    [Fact]
    public void The_tcp_header_is_found_after_ip_options()
    {
        // IHL 6: one 4-byte option (NOPs) before the TCP header; a RST+ACK.
        var packet = Convert.FromHexString(
            "460000280000400040060000" + "7f100005" + "7f000001" + "01010101" +
            "00193039" + "00000000" + "deadbef0" + "50140000" + "00000000");
        Assert.True(TcpSegment.TryParseIPv4(packet, out var r));
        Assert.Equal(25, r.SourcePort);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, r.Flags);
        Assert.Equal(0xdeadbef0u, r.Acknowledgment);
    }

    [Theory]
    [InlineData("4500002c000020004006")] // too short
    [InlineData("4500002c0000000040110000" + "7f100005" + "7f000001" + "1f9030391122334400000000")] // UDP
    [InlineData("4500002c0000200140060000" + "7f100005" + "7f000001" + "1f903039112233440000000060120000")] // a later fragment
    [InlineData("6500002c0000000040060000" + "7f100005" + "7f000001" + "1f903039112233440000000060120000")] // not IPv4
    public void Packets_that_are_not_a_whole_ipv4_tcp_header_are_refused(string hex)
    {
        Assert.False(TcpSegment.TryParseIPv4(Convert.FromHexString(hex), out _));
    }
}
