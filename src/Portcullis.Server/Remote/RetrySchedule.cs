using Portcullis.Server.Configuration;

namespace Portcullis.Server.Remote;

/// <summary>
/// When to try a deferred recipient again: delivery.retry_initial after the first failure, doubling after
/// each further one, never more than delivery.retry_max (RFC 5321 §4.5.4.1: at least 30 minutes between
/// retries is the usual production choice; the defaults are 5 minutes growing to 4 hours).
/// </summary>
public static class RetrySchedule
{
    /// <param name="attemptsBefore">attempts already recorded before the one that just failed</param>
    public static TimeSpan Delay(int attemptsBefore, DeliverySection delivery)
    {
        var doublings = Math.Clamp(attemptsBefore, 0, 30);
        var ticks = delivery.RetryInitial.Ticks * Math.Pow(2, doublings);
        return ticks >= delivery.RetryMax.Ticks ? delivery.RetryMax : TimeSpan.FromTicks((long)ticks);
    }
}
