using System.Text;
using MimeKit;
using Portcullis.Server.Policy;
using Portcullis.Server.Queue;
using Portcullis.Server.Remote;

namespace Portcullis.Server.Tests.Remote;

public sealed class SuccessReportTests
{
    private static DeliveryWork Work(string sender = "alice@example.test", string? notify = "SUCCESS", bool isBounce = false) =>
        new(7, 0, sender, "bob@example.test", RecipientRoute.Local, 0, DateTimeOffset.Parse("2026-11-28T10:00:00Z"),
            Encoding.ASCII.GetBytes("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: the original\r\n\r\nSecret body.\r\n"))
        {
            Notify = notify,
            IsBounce = isBounce,
        };

    [Theory]
    [InlineData("alice@example.test", "SUCCESS", false, true)]
    [InlineData("alice@example.test", "success,FAILURE", false, true)]
    [InlineData("alice@example.test", "FAILURE,DELAY", false, false)]
    [InlineData("alice@example.test", "NEVER", false, false)]
    [InlineData("alice@example.test", null, false, false)]   // no NOTIFY: failures only (RFC 3461 §4.1)
    [InlineData("", "SUCCESS", false, false)]                 // nobody to tell
    [InlineData("alice@example.test", "SUCCESS", true, false)] // never a notice about a notice
    public void A_success_notice_is_made_only_when_a_real_sender_asked_for_it(string sender, string? notify, bool isBounce, bool expected) =>
        Assert.Equal(expected, SuccessReport.Wanted(Work(sender, notify, isBounce)));

    [Fact]
    public void A_delivered_notice_reports_2_0_0_with_envelope_id_and_original_recipient_and_returns_only_the_headers()
    {
        var work = Work() with { EnvelopeId = "env-42", OriginalRecipient = "rfc822;bob@example.test", Ret = "FULL" };
        var now = DateTimeOffset.Parse("2026-11-28T10:00:05Z");
        var dsn = SuccessReport.Build("mx.example.test", work, [SuccessReport.Delivered(work, now)], now);

        Assert.Equal("Successful Mail Delivery Report", dsn.Subject);
        Assert.Equal("MAILER-DAEMON@mx.example.test", dsn.From.Mailboxes.Single().Address);
        Assert.Equal("alice@example.test", dsn.To.Mailboxes.Single().Address);
        Assert.Equal("auto-replied", dsn.Headers["Auto-Submitted"]);
        var report = Assert.IsType<MultipartReport>(dsn.Body);
        Assert.Equal("delivery-status", report.ReportType);
        var groups = Assert.Single(report.OfType<MessageDeliveryStatus>()).StatusGroups.Where(g => g.Count > 0).ToList();
        Assert.Equal("env-42", groups[0]["Original-Envelope-Id"]);
        Assert.Equal("rfc822;bob@example.test", groups[1]["Original-Recipient"]);
        Assert.Equal("rfc822; bob@example.test", groups[1]["Final-Recipient"]);
        Assert.Equal("delivered", groups[1]["Action"]);
        Assert.Equal("2.0.0", groups[1]["Status"]);
        Assert.Null(groups[1]["Remote-MTA"]);
        // RET=FULL is for failure notices (RFC 3461 §4.3): a success notice returns the headers only.
        var headers = Assert.Single(report.OfType<TextRfc822Headers>());
        Assert.Equal("the original", headers.Message!.Subject);
        Assert.DoesNotContain("Secret body", Encoding.ASCII.GetString(DeliveryStatusReport.ToBytes(dsn)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_relayed_notice_names_the_next_hop_and_its_reply()
    {
        var work = Work() with { Route = RecipientRoute.Remote, Address = "carol@remote.test" };
        var now = DateTimeOffset.UtcNow;
        var dsn = SuccessReport.Build("mx.example.test", work, [SuccessReport.Relayed(work, "mx.remote.test[192.0.2.1]:25", "mx.remote.test[192.0.2.1]:25 said: 250 2.0.0 Ok", now)], now);
        var block = Assert.Single(Assert.IsType<MultipartReport>(dsn.Body).OfType<MessageDeliveryStatus>()).StatusGroups.Where(g => g.Count > 0).Last();
        Assert.Equal("relayed", block["Action"]);
        Assert.Equal("2.0.0", block["Status"]);
        Assert.Equal("dns; mx.remote.test", block["Remote-MTA"]);
        Assert.Equal("smtp; 250 2.0.0 Ok", block["Diagnostic-Code"]);
    }
}
