using System.Globalization;

namespace Portcullis.Server.Queue;

/// <summary>
/// Queue ids: milliseconds since the Unix epoch in the high bits and a counter in the low 20, so ids sort
/// by arrival, stay unique within a process (up to a million per millisecond) and across restarts.
/// </summary>
public sealed class QueueIdGenerator
{
    private long _last;

    public long Next()
    {
        var candidate = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 20;
        while (true)
        {
            var last = Interlocked.Read(ref _last);
            var next = Math.Max(candidate, last + 1);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }

    public static string Format(long id) => id.ToString("X", CultureInfo.InvariantCulture);

    public static bool TryParse(string s, out long id) => long.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out id);
}
