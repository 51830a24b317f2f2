using System.Net;

namespace Portcullis.Audit.Targets;

/// <summary>
/// Every (address, port) pair of a scan, numbered 0..Count-1 without materialising them: block by block,
/// address by address, port by port. A scan hands out indexes, and a resumed scan skips the indexes a
/// checkpoint says are done, so the order must be stable for the same targets and ports.
/// </summary>
public sealed class EndpointSpace
{
    private readonly Entry[] _entries;

    public EndpointSpace(IEnumerable<(AddressBlock Block, IReadOnlyList<int> Ports)> blocks)
    {
        var list = new List<Entry>();
        long start = 0;
        foreach (var (block, ports) in blocks)
        {
            if (ports.Count == 0)
            {
                continue;
            }
            var n = block.Count * (UInt128)ports.Count;
            if (n > (UInt128)(long.MaxValue / 4) || start + (long)n > long.MaxValue / 4)
            {
                throw new ArgumentException($"{block.Label}: too many addresses to scan ({block.Count} x {ports.Count} ports)");
            }
            list.Add(new Entry(block, [.. ports], start, (long)n));
            start += (long)n;
        }
        _entries = [.. list];
        Count = start;
        AddressCount = list.Aggregate(UInt128.Zero, (s, e) => s + e.Block.Count);
    }

    public long Count { get; }

    public UInt128 AddressCount { get; }

    public IReadOnlyList<AddressBlock> Blocks => [.. _entries.Select(e => e.Block)];

    /// <summary>Finds the block, address offset and port of endpoint <paramref name="index"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public (AddressBlock Block, UInt128 Offset, int Port) At(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        // Binary search over block starts: a handful of blocks in practice, thousands from a file.
        int lo = 0, hi = _entries.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_entries[mid].Start <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        var e = _entries[lo];
        var within = index - e.Start;
        return (e.Block, (UInt128)(within / e.Ports.Length), e.Ports[within % e.Ports.Length]);
    }

    public IPEndPoint EndPointAt(long index)
    {
        var (block, offset, port) = At(index);
        return new IPEndPoint(block.AddressAt(offset), port);
    }

    /// <summary>True when every block is IPv4 (SYN discovery's condition).</summary>
    public bool IsIPv4Only => _entries.All(e => e.Block.Family == System.Net.Sockets.AddressFamily.InterNetwork);

    /// <summary>
    /// The reverse of <see cref="At"/> for IPv4: the number of endpoint (address, port), where SYN discovery
    /// maps a reply back to its probe. With overlapping blocks, the first block (in start order) holding it.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public bool TryIndexOfIPv4(uint address, int port, out long index)
    {
        var v4 = _v4 ??= BuildIPv4Index();
        // Last block starting at or below the address, then back over earlier ones (overlaps, or blocks
        // that end before it); the index is ordered by block start.
        int lo = 0, hi = v4.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (v4[mid].First <= address)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        var best = long.MaxValue;
        for (var k = v4.Length > 0 && v4[lo].First <= address ? lo : -1; k >= 0; k--)
        {
            var e = v4[k];
            if (e.ReachBefore <= address)
            {
                break; // no block from here down reaches the address
            }
            if ((ulong)address - e.First < e.Count && e.PortPosition(port) is var pos and >= 0)
            {
                best = Math.Min(best, e.Start + (long)((ulong)address - e.First) * e.Ports.Length + pos);
            }
        }
        index = best;
        return best != long.MaxValue;
    }

    private IPv4Entry[]? _v4;

    private IPv4Entry[] BuildIPv4Index()
    {
        IPv4Entry[] v4 = [.. _entries.Where(e => e.Block.Family == System.Net.Sockets.AddressFamily.InterNetwork)
            .Select(e => new IPv4Entry((uint)e.Block.First, (ulong)e.Block.Count, e.Ports, e.Start))
            .OrderBy(e => e.First).ThenBy(e => e.Start)];
        ulong reach = 0;
        foreach (var e in v4)
        {
            reach = Math.Max(reach, e.First + e.Count);
            e.ReachBefore = reach; // one past the highest address of this block and every block before it
        }
        return v4;
    }

    private sealed record Entry(AddressBlock Block, int[] Ports, long Start, long Length);

    private sealed class IPv4Entry(uint first, ulong count, int[] ports, long start)
    {
        private readonly Dictionary<int, int>? _positions = ports.Length > 8
            ? ports.Select((p, i) => (p, i)).GroupBy(x => x.p).ToDictionary(g => g.Key, g => g.First().i)
            : null;

        public uint First { get; } = first;
        public ulong Count { get; } = count;
        public int[] Ports { get; } = ports;
        public long Start { get; } = start;
        public ulong ReachBefore { get; set; }

        public int PortPosition(int port)
        {
            if (_positions is not null)
            {
                return _positions.TryGetValue(port, out var i) ? i : -1;
            }
            return Array.IndexOf(Ports, port);
        }
    }
}
