using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Portcullis.Audit.Scan.Syn;

/// <summary>
/// The stateless part of SYN discovery (the idea of SYN cookies, RFC 4987 §3.6, turned around as masscan
/// and zmap do): each probe's sequence number is SipHash(key; target address, target port, our address,
/// our port). A SYN-ACK or RST counts only if it acknowledges exactly that number + 1 (RFC 9293 §3.10.7.1:
/// a RST answering a SYN acknowledges SEG.SEQ + 1), so stray or forged packets are dropped without any
/// table of probes sent.
/// </summary>
public sealed class SynCookie
{
    private readonly ulong _k0;
    private readonly ulong _k1;

    public SynCookie(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    /// <summary>A cookie with a fresh random key: one per scan.</summary>
    public static SynCookie CreateRandom()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        return new SynCookie(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
    }

    /// <summary>The sequence number of the SYN from <paramref name="source"/>:<paramref name="sourcePort"/> to <paramref name="target"/>:<paramref name="targetPort"/> (addresses as host-order numbers).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public uint SequenceFor(uint target, int targetPort, uint source, int sourcePort)
    {
        Span<byte> m = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(m, target);
        BinaryPrimitives.WriteUInt32BigEndian(m[4..], source);
        BinaryPrimitives.WriteUInt16BigEndian(m[8..], (ushort)targetPort);
        BinaryPrimitives.WriteUInt16BigEndian(m[10..], (ushort)sourcePort);
        return (uint)SipHash24.Hash(_k0, _k1, m);
    }

    /// <summary>Whether a reply from target to source acknowledges our SYN (ack = sequence + 1, modulo 2^32).</summary>
    public bool Acknowledges(uint target, int targetPort, uint source, int sourcePort, uint acknowledgment) =>
        acknowledgment == unchecked(SequenceFor(target, targetPort, source, sourcePort) + 1);
}
