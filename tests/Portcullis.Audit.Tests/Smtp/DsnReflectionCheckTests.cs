using System.Net;
using Portcullis.Audit.Canary;
using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp.Checks;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>Judging of dsn.success-reflection once the canary has had its wait.</summary>
public sealed class DsnReflectionCheckTests
{
    private static DsnRequest Request(DsnRequestOutcome outcome) => new(25, "pc0123456789ab", outcome, "detail", "C: RCPT TO:<alice@example.test> NOTIFY=SUCCESS");

    private static SmtpCanaryHit Notice(bool inRecipient = true) =>
        new("pc0123456789ab", inRecipient, IPAddress.Parse("192.0.2.7"), "<>", ["pc0123456789ab@canary.test"], DateTimeOffset.UtcNow);

    [Theory]
    [InlineData(DsnRequestOutcome.Taken, false, CheckStatus.Pass)]
    [InlineData(DsnRequestOutcome.Taken, true, CheckStatus.Fail)]
    [InlineData(DsnRequestOutcome.Refused, false, CheckStatus.Pass)]
    [InlineData(DsnRequestOutcome.NeedsAuth, false, CheckStatus.Skipped)]
    [InlineData(DsnRequestOutcome.Unknown, false, CheckStatus.Inconclusive)]
    // A report that arrived proves it whatever the session said (e.g. the end-of-data reply was lost).
    [InlineData(DsnRequestOutcome.Unknown, true, CheckStatus.Fail)]
    public void Only_a_notice_at_the_canary_fails_and_a_taken_request_without_one_passes(DsnRequestOutcome outcome, bool noticeArrived, CheckStatus expected)
    {
        var f = DsnReflectionCheck.Judge(Request(outcome), noticeArrived ? [Notice()] : [], TimeSpan.FromSeconds(8));
        Assert.Equal(expected, f.Status);
        Assert.Equal(expected == CheckStatus.Fail ? FixTopic.DsnReflection : null, f.Topic);
    }

    [Fact]
    public void The_token_only_seen_inside_a_message_is_no_notice_to_the_sender()
    {
        var f = DsnReflectionCheck.Judge(Request(DsnRequestOutcome.Taken), [Notice(inRecipient: false)], TimeSpan.FromSeconds(8));
        Assert.Equal(CheckStatus.Pass, f.Status);
        Assert.Contains("canary saw in a message", f.Evidence);
    }

    [Fact]
    public void The_fix_is_specific_for_every_known_software_and_there_is_a_generic_one()
    {
        foreach (var sw in Enum.GetValues<SmtpSoftware>().Where(s => s != SmtpSoftware.Unknown))
        {
            Assert.True(RemediationTable.HasSpecific(FixTopic.DsnReflection, sw), $"no fix for {sw}");
        }
        Assert.Contains("smtpd_discard_ehlo_keyword_address_maps", RemediationTable.For(FixTopic.DsnReflection, SmtpSoftware.Postfix));
        Assert.False(string.IsNullOrWhiteSpace(RemediationTable.For(FixTopic.DsnReflection, SmtpSoftware.Unknown)));
    }
}
