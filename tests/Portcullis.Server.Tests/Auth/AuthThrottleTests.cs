using System.Net;
using Portcullis.Server.Auth;

namespace Portcullis.Server.Tests.Auth;

public class AuthThrottleTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 28, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");

    [Fact]
    public void First_five_failures_cost_at_most_two_seconds_then_delays_grow_then_lockout()
    {
        var t = new AuthThrottle(new ManualClock());
        var delays = new List<TimeSpan>();
        for (var i = 0; i < AuthThrottle.LockoutFailures; i++)
        {
            var v = t.Check(Client, "alice@example.test");
            Assert.False(v.LockedOut);
            delays.Add(v.DelayOnFailure);
            t.RecordFailure(Client, "alice@example.test");
        }
        Assert.All(delays.Take(5), d => Assert.True(d <= TimeSpan.FromSeconds(2)));
        for (var i = 5; i < delays.Count; i++)
        {
            Assert.True(delays[i] > delays[i - 1] || delays[i] == TimeSpan.FromSeconds(30), $"delay {i} did not grow");
        }
        Assert.True(t.Check(Client, "alice@example.test").LockedOut);
    }

    [Fact]
    public void Lockout_applies_per_account_from_other_addresses_and_ends_with_the_window()
    {
        var clock = new ManualClock();
        var t = new AuthThrottle(clock);
        for (var i = 0; i < AuthThrottle.LockoutFailures; i++)
        {
            t.RecordFailure(IPAddress.Parse($"198.51.100.{i}"), "bob@example.test");
        }
        Assert.True(t.Check(IPAddress.Parse("203.0.113.1"), "bob@example.test").LockedOut);
        Assert.False(t.Check(IPAddress.Parse("203.0.113.1"), "alice@example.test").LockedOut);
        clock.Now += AuthThrottle.Window + TimeSpan.FromSeconds(1);
        Assert.False(t.Check(IPAddress.Parse("203.0.113.1"), "bob@example.test").LockedOut);
    }

    [Fact]
    public void Sending_limits_count_messages_and_recipients_over_a_sliding_hour()
    {
        var clock = new ManualClock();
        var limits = new SendingLimits(2, 5, clock);
        Assert.True(limits.MayStartMessage("u@example.test"));
        limits.Record("u@example.test", 3);
        Assert.True(limits.MayAddRecipient("u@example.test", 1));
        Assert.False(limits.MayAddRecipient("u@example.test", 2));
        limits.Record("u@example.test", 1);
        Assert.False(limits.MayStartMessage("u@example.test"));
        clock.Now += TimeSpan.FromMinutes(61);
        Assert.True(limits.MayStartMessage("u@example.test"));
    }
}
