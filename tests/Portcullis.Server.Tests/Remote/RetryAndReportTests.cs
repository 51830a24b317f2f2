using Portcullis.Server.Configuration;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Remote;

namespace Portcullis.Server.Tests.Remote;

public sealed class RetryAndReportTests
{
    [Fact]
    public void Retries_double_from_retry_initial_and_stop_growing_at_retry_max()
    {
        var d = new DeliverySection { RetryInitial = TimeSpan.FromMinutes(5), RetryMax = TimeSpan.FromHours(4) };
        Assert.Equal(
            [5, 10, 20, 40, 80, 160, 240, 240],
            Enumerable.Range(0, 8).Select(a => (int)RetrySchedule.Delay(a, d).TotalMinutes));
        Assert.Equal(TimeSpan.FromHours(4), RetrySchedule.Delay(1000, d));
    }

    [Theory]
    [InlineData("alice@example.test", false, null, true)]
    [InlineData("", false, null, false)]                 // null reverse-path: never bounced (RFC 5321 §4.5.5)
    [InlineData("alice@example.test", true, null, false)] // a bounce is never bounced
    [InlineData("alice@example.test", false, "NEVER", false)]
    [InlineData("alice@example.test", false, "SUCCESS,DELAY", false)]
    [InlineData("alice@example.test", false, "SUCCESS,FAILURE", true)]
    public void A_failure_is_reported_only_to_a_real_sender_who_wants_it(string sender, bool isBounce, string? notify, bool expected)
    {
        var work = new DeliveryWork(1, 0, sender, "bob@remote.test", RecipientRoute.Remote, 0, DateTimeOffset.UtcNow, []) { IsBounce = isBounce, Notify = notify };
        Assert.Equal(expected, BounceReport.MayReport(work));
    }

    [Theory]
    [InlineData(550, "5.1.1 <x>: User unknown", true, "5.1.1")]
    [InlineData(450, "4.2.0 greylisted", false, "4.2.0")]
    [InlineData(554, "no thanks", true, "5.0.0")]
    [InlineData(421, "closing", false, "4.0.0")]
    public void Remote_replies_map_to_permanent_or_temporary_with_their_enhanced_status(int code, string text, bool permanent, string status)
    {
        var f = RemoteFailure.FromReply(code, text, "mx.remote.test[192.0.2.1]:25");
        Assert.Equal((permanent, status), (f.Permanent, f.Status));
    }
}
