using System.Diagnostics;

namespace Portcullis.Audit.Scan;

/// <summary>
/// Spaces connection attempts to at most <c>perSecond</c> across all workers: each caller reserves the
/// next free slot on a shared timeline and waits for it. 0 means no limit.
/// </summary>
public sealed class RateGate(double perSecond)
{
    private readonly long _interval = perSecond > 0 ? (long)(Stopwatch.Frequency / perSecond) : 0;
    private long _next = Stopwatch.GetTimestamp();

    public bool Unlimited => _interval == 0;

    public ValueTask WaitAsync(CancellationToken ct)
    {
        if (_interval == 0)
        {
            return ValueTask.CompletedTask;
        }
        var now = Stopwatch.GetTimestamp();
        long slot;
        while (true)
        {
            var next = Volatile.Read(ref _next);
            // Idle time is not banked: a gate that waited for work does not then burst.
            slot = Math.Max(next, now);
            if (Interlocked.CompareExchange(ref _next, slot + _interval, next) == next)
            {
                break;
            }
        }
        var wait = slot - now;
        return wait <= 0 ? ValueTask.CompletedTask : new ValueTask(Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct));
    }
}
