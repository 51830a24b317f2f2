using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Portcullis.Audit.Targets;

/// <summary>
/// A contiguous run of IPv4 or IPv6 addresses (a CIDR block, a range or one address), kept as its first
/// address and a count so a /16 is two numbers, not 65,536 objects. Addresses are produced on demand.
/// </summary>
public sealed record AddressBlock
{
    public AddressBlock(AddressFamily family, UInt128 first, UInt128 count, string label, string? hostName = null)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(nameof(family));
        }
        if (count == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "a block has at least one address");
        }
        Family = family;
        First = first;
        Count = count;
        Label = label;
        HostName = hostName;
    }

    public AddressFamily Family { get; }

    /// <summary>The first address as an unsigned integer (network byte order read big-endian).</summary>
    public UInt128 First { get; }

    public UInt128 Count { get; }

    /// <summary>What the user wrote (or the host name the address came from), for reports.</summary>
    public string Label { get; }

    /// <summary>The host name this address was resolved from, when it came from a name.</summary>
    public string? HostName { get; }

    public UInt128 Last => First + Count - 1;

    public static AddressBlock Single(IPAddress address, string label, string? hostName = null) =>
        new(address.AddressFamily, ToNumber(address), 1, label, hostName);

    /// <summary>The address at <paramref name="index"/> (0-based) inside the block.</summary>
    public IPAddress AddressAt(UInt128 index)
    {
        if (index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        return FromNumber(Family, First + index);
    }

    /// <summary>Writes the address at <paramref name="index"/> into <paramref name="destination"/> (4 or 16 bytes) without allocating.</summary>
    public void WriteAddressAt(UInt128 index, Span<byte> destination)
    {
        var n = First + index;
        var len = Family == AddressFamily.InterNetwork ? 4 : 16;
        for (var i = len - 1; i >= 0; i--)
        {
            destination[i] = (byte)(n & 0xFF);
            n >>= 8;
        }
    }

    public bool Contains(IPAddress address) =>
        address.AddressFamily == Family && ToNumber(address) >= First && ToNumber(address) <= Last;

    public static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException("cannot read address " + address, nameof(address));
        }
        UInt128 n = 0;
        for (var i = 0; i < written; i++)
        {
            n = (n << 8) | bytes[i];
        }
        return n;
    }

    public static IPAddress FromNumber(AddressFamily family, UInt128 n)
    {
        var len = family == AddressFamily.InterNetwork ? 4 : 16;
        Span<byte> bytes = stackalloc byte[len];
        for (var i = len - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(n & 0xFF);
            n >>= 8;
        }
        return new IPAddress(bytes);
    }

    /// <summary>Number of addresses in a prefix of <paramref name="prefixLength"/> bits.</summary>
    public static UInt128 PrefixSize(AddressFamily family, int prefixLength)
    {
        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var hostBits = bits - prefixLength;
        return hostBits == 128 ? UInt128.MaxValue : UInt128.One << hostBits;
    }

    public override string ToString() => Count == 1
        ? FromNumber(Family, First).ToString()
        : $"{FromNumber(Family, First)}-{FromNumber(Family, Last)}";

    internal static int BitLength(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    internal static UInt128 MaskFor(AddressFamily family, int prefixLength)
    {
        var bits = BitLength(family);
        if (prefixLength == 0)
        {
            return 0;
        }
        var all = bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;
        return all ^ (PrefixSize(family, prefixLength) - 1);
    }

    internal static string Describe(UInt128 count) => count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal static BigInteger Big(UInt128 n) => (BigInteger)n;
}
