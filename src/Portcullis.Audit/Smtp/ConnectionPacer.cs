namespace Portcullis.Audit.Smtp;

/// <summary>
/// Politeness (issue 4, catalog §6.2): at most <c>rate</c> new connections per second across the whole run.
/// (One connection at a time per host is guaranteed by the auditor, which works on a host sequentially.)
/// </summary>
public sealed class ConnectionPacer(double connectionsPerSecond)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TimeSpan _interval = connectionsPerSecond > 0 ? TimeSpan.FromSeconds(1 / connectionsPerSecond) : TimeSpan.Zero;
    private DateTime _next = DateTime.MinValue;

    public async Task WaitAsync(CancellationToken ct)
    {
        if (_interval == TimeSpan.Zero)
        {
            return;
        }
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var now = DateTime.UtcNow;
            if (_next > now)
            {
                await Task.Delay(_next - now, ct).ConfigureAwait(false);
                now = DateTime.UtcNow;
            }
            _next = now + _interval;
        }
        finally
        {
            _lock.Release();
        }
    }
}
