using System.Buffers.Binary;
using System.Numerics;

namespace Portcullis.Audit.Scan.Syn;

/// <summary>
/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit PRF, fast on short inputs. SYN discovery
/// keys it with a random per-scan key to derive each probe's initial sequence number, so a reply can be
/// checked without remembering the probe, and nobody who cannot see the probes can forge a reply.
/// </summary>
public static class SipHash24
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static ulong Hash(ulong k0, ulong k1, ReadOnlySpan<byte> message)
    {
        var v0 = k0 ^ 0x736f6d6570736575UL;
        var v1 = k1 ^ 0x646f72616e646f6dUL;
        var v2 = k0 ^ 0x6c7967656e657261UL;
        var v3 = k1 ^ 0x7465646279746573UL;
        var whole = message.Length & ~7;
        for (var i = 0; i < whole; i += 8)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(message[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }
        // Last word: the remaining bytes, little-endian, with the message length in the top byte.
        var last = (ulong)(byte)message.Length << 56;
        for (var i = message.Length - 1; i >= whole; i--)
        {
            last |= (ulong)message[i] << (8 * (i - whole));
        }
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
        v2 ^= 0xff;
        for (var r = 0; r < 4; r++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }
}
