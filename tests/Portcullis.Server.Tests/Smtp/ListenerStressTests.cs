using Portcullis.Server.Smtp;

namespace Portcullis.Server.Tests.Smtp;

/// <summary>When a listener counts as flooded, and when it stops.</summary>
public class ListenerStressTests
{
    [Theory]
    [InlineData(500, 400, 250)]
    [InlineData(10, 8, 5)]
    [InlineData(8, 7, 4)]
    [InlineData(1, 1, 1)]
    public void Stress_begins_at_80_percent_of_max_connections_and_ends_below_half(int max, int enterAt, int leaveBelow)
    {
        var stress = new ListenerStress(max);
        Assert.Equal(enterAt, stress.EnterAt);
        Assert.Equal(leaveBelow, stress.LeaveBelow);
        Assert.False(stress.Enters(enterAt - 1));
        Assert.True(stress.Enters(enterAt));
        Assert.True(stress.Leaves(leaveBelow - 1));
        Assert.False(stress.Leaves(leaveBelow));
    }

    [Fact]
    public void Between_the_two_thresholds_stress_neither_begins_nor_ends()
    {
        var stress = new ListenerStress(500);
        foreach (var connections in new[] { 250, 300, 399 })
        {
            Assert.False(stress.Enters(connections));
            Assert.False(stress.Leaves(connections));
        }
    }

    [Theory]
    [InlineData(10_000, 1000)]
    [InlineData(1000, 250)]
    [InlineData(100, 50)]
    public void The_sweep_looks_four_times_per_timeout_between_50_ms_and_a_second(int timeoutMs, int intervalMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(intervalMs), ListenerStress.SweepInterval(TimeSpan.FromMilliseconds(timeoutMs)));
}
