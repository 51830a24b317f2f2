using System.Collections.Concurrent;
using System.Net;

namespace Portcullis.Server.Auth;

/// <summary>What the throttle says before a password is checked.</summary>
public readonly record struct ThrottleVerdict(bool LockedOut, TimeSpan DelayOnFailure, int RecentFailures);

/// <summary>
/// Slows password guessing, per client address and per account, over a sliding window: the first 5
/// failures in 15 minutes cost at most 2 s each and never stop a later correct password; after that
/// each failure costs more (growing delays), and from the 10th the client or account is refused with
/// 454 4.7.0 without any password check until old failures leave the window (issue 3; RFC 4954 §4 leaves
/// the policy to the server). State is in memory: a restart forgets it, which only helps a guesser once.
/// </summary>
public sealed class AuthThrottle(TimeProvider? clock = null)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public const int FreeFailures = 5;
    public const int LockoutFailures = 10;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    public ThrottleVerdict Check(IPAddress client, string? account)
    {
        var n = Math.Max(Count("ip:" + client), account is null ? 0 : Count("user:" + account.ToLowerInvariant()));
        if (n >= LockoutFailures)
        {
            return new ThrottleVerdict(true, TimeSpan.Zero, n);
        }
        // 0.5 s, 1 s, 1.5 s, 2 s, 2 s for the first five; then 4, 8, 16, 30 s.
        var delay = n < FreeFailures
            ? TimeSpan.FromMilliseconds(Math.Min(2000, 500 * (n + 1)))
            : TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, n - FreeFailures + 2)));
        return new ThrottleVerdict(false, delay, n);
    }

    public int RecordFailure(IPAddress client, string? account)
    {
        var a = Add("ip:" + client);
        var b = account is null ? 0 : Add("user:" + account.ToLowerInvariant());
        return Math.Max(a, b);
    }

    private int Add(string key)
    {
        var q = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            Trim(q);
            q.Enqueue(_clock.GetUtcNow());
            return q.Count;
        }
    }

    private int Count(string key)
    {
        if (!_failures.TryGetValue(key, out var q))
        {
            return 0;
        }
        lock (q)
        {
            Trim(q);
            return q.Count;
        }
    }

    private void Trim(Queue<DateTimeOffset> q)
    {
        var cutoff = _clock.GetUtcNow() - Window;
        while (q.Count > 0 && q.Peek() < cutoff)
        {
            q.Dequeue();
        }
    }
}
