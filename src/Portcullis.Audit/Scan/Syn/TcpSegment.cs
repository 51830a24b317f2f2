using System.Buffers.Binary;

namespace Portcullis.Audit.Scan.Syn;

/// <summary>TCP flag bits (RFC 9293 §3.1).</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>The fields of a TCP segment SYN discovery reads from a reply (addresses and ports in host order).</summary>
public readonly record struct TcpReply(uint Source, uint Destination, int SourcePort, int DestinationPort, uint Sequence, uint Acknowledgment, TcpFlags Flags);

/// <summary>
/// The TCP segments of SYN discovery: the SYN we send (the kernel adds the IPv4 header, so we write only the
/// TCP header and its checksum over the RFC 9293 §3.1 pseudo-header) and the IPv4 packets that come back.
/// </summary>
public static class TcpSegment
{
    /// <summary>A 20-byte header plus one option, MSS 1460 (RFC 9293 §3.7.1), as nmap -sS sends: SYNs without options look crafted to some filters.</summary>
    public const int SynLength = 24;

    private const int ProtocolTcp = 6;

    /// <summary>Writes a SYN from source:sourcePort to target:targetPort with sequence number <paramref name="sequence"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void WriteSyn(Span<byte> segment, uint source, uint target, int sourcePort, int targetPort, uint sequence)
    {
        var s = segment[..SynLength];
        BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], (ushort)targetPort);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(s[8..], 0);  // acknowledgment: none (no ACK flag)
        s[12] = (SynLength / 4) << 4;                        // data offset in 32-bit words
        s[13] = (byte)TcpFlags.Syn;
        BinaryPrimitives.WriteUInt16BigEndian(s[14..], 1024); // window
        BinaryPrimitives.WriteUInt16BigEndian(s[16..], 0);    // checksum, filled below
        BinaryPrimitives.WriteUInt16BigEndian(s[18..], 0);    // urgent pointer
        s[20] = 2;                                            // option kind 2: maximum segment size
        s[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(s[22..], 1460);
        BinaryPrimitives.WriteUInt16BigEndian(s[16..], Checksum(source, target, s));
    }

    /// <summary>An IPv4 header (20 bytes) and a SYN: what goes out of an IPPROTO_RAW socket.</summary>
    public const int SynPacketLength = 20 + SynLength;

    /// <summary>
    /// Writes an IPv4 header (RFC 791 §3.1, no options) followed by the SYN of <see cref="WriteSyn"/>. The
    /// kernel always fills in the total length and the header checksum on a raw socket with IP_HDRINCL, and
    /// the identification when it is zero (raw(7)); we write them anyway so the bytes are a whole packet.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void WriteSynPacket(Span<byte> packet, uint source, uint target, int sourcePort, int targetPort, uint sequence)
    {
        var ip = packet[..20];
        ip[0] = 0x45;                                                // version 4, header length 5 words
        ip[1] = 0;                                                   // DSCP/ECN
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], SynPacketLength);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0);           // identification: the kernel picks one
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0);           // no flags, fragment offset 0
        ip[8] = 64;                                                  // TTL
        ip[9] = ProtocolTcp;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], target);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], HeaderChecksum(ip));
        WriteSyn(packet[20..], source, target, sourcePort, targetPort, sequence);
    }

    /// <summary>The IPv4 header checksum (RFC 791 §3.1): one's complement of the one's complement sum of the header's 16-bit words.</summary>
    public static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        ulong sum = 0;
        for (var i = 0; i + 1 < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>
    /// The TCP checksum: the 16-bit one's complement of the one's complement sum (RFC 1071) of the
    /// pseudo-header (source, destination, zero, protocol 6, TCP length) and the segment with its checksum
    /// field taken as it stands (zero when computing; a received segment sums to 0 when it is valid).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static ushort Checksum(uint source, uint destination, ReadOnlySpan<byte> segment)
    {
        ulong sum = (source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff)
            + ProtocolTcp + (ulong)segment.Length;
        var i = 0;
        for (; i + 1 < segment.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(segment[i..]);
        }
        if (i < segment.Length)
        {
            sum += (ulong)segment[i] << 8; // odd length: pad with a zero byte
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>Reads an IPv4 packet carrying a TCP segment (the first fragment, at least the 20-byte TCP header).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseIPv4(ReadOnlySpan<byte> packet, out TcpReply reply)
    {
        reply = default;
        if (packet.Length < 20 || packet[0] >> 4 != 4 || packet[9] != ProtocolTcp)
        {
            return false;
        }
        var headerLength = (packet[0] & 0xf) * 4;
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1fff;
        if (headerLength < 20 || fragmentOffset != 0 || packet.Length < headerLength + 20)
        {
            return false;
        }
        var tcp = packet[headerLength..];
        reply = new TcpReply(
            BinaryPrimitives.ReadUInt32BigEndian(packet[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(tcp),
            BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]),
            (TcpFlags)(tcp[13] & 0x3f));
        return true;
    }
}
