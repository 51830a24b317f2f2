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

    private sealed record Entry(AddressBlock Block, int[] Ports, long Start, long Length);
}
