using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp.Checks;
using Portcullis.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>Judging of line.long-data and data.nul (catalog §4 "Long lines" and "NUL / control bytes").</summary>
public sealed class MessageContentChecksTests
{
    private static SmtpReply R(int code) => new(code, null, "x");

    [Fact]
    public void The_long_line_is_1001_octets_with_its_CRLF_and_a_cut_at_998_leaves_a_lone_dot()
    {
        Assert.Equal(1001, (LongDataLineCheck.Line + "\r\n").Length);
        Assert.Equal(".", LongDataLineCheck.Line[998..]);
        Assert.DoesNotContain('.', LongDataLineCheck.Line[..998]);
    }

    [Theory]
    [InlineData(500, LongDataLineOutcome.Refused, CheckStatus.Pass)]
    [InlineData(552, LongDataLineOutcome.Refused, CheckStatus.Pass)]
    [InlineData(554, LongDataLineOutcome.Refused, CheckStatus.Pass)]
    [InlineData(250, LongDataLineOutcome.Accepted, CheckStatus.Pass)] // a warning: the stored copy is out of sight
    [InlineData(451, LongDataLineOutcome.Unknown, CheckStatus.Inconclusive)]
    public void A_single_end_of_data_reply_is_judged(int code, LongDataLineOutcome outcome, CheckStatus status)
    {
        Assert.Equal(outcome, LongDataLineCheck.Classify(R(code), null));
        Assert.Equal(status, LongDataLineCheck.Judge(outcome));
    }

    [Fact]
    public void A_250_followed_by_an_answer_to_the_next_body_line_proves_a_split_and_fails() =>
        Assert.Equal(CheckStatus.Fail, LongDataLineCheck.Judge(LongDataLineCheck.Classify(R(250), R(250))));

    [Fact]
    public void No_answer_to_the_long_line_is_inconclusive() =>
        Assert.Equal(CheckStatus.Inconclusive, LongDataLineCheck.Judge(LongDataLineCheck.Classify(null, null)));

    [Theory]
    [InlineData(550, CheckStatus.Pass)] // Portcullis: 550 5.6.0; Postfix with message_reject_characters = \0: 550 5.7.1
    [InlineData(554, CheckStatus.Pass)]
    [InlineData(250, CheckStatus.Fail)] // stock Postfix 3.7, Exim 4.96, OpenSMTPD 6.8
    [InlineData(451, CheckStatus.Inconclusive)]
    public void A_nul_in_a_header_must_be_refused(int code, CheckStatus expected) =>
        Assert.Equal(expected, HeaderNulCheck.Judge(R(code)));

    [Fact]
    public void No_answer_to_the_nul_header_is_inconclusive() =>
        Assert.Equal(CheckStatus.Inconclusive, HeaderNulCheck.Judge(null));

    [Theory]
    [InlineData(FixTopic.LongDataLine)]
    [InlineData(FixTopic.HeaderNul)]
    public void Both_checks_have_a_fix_for_every_known_software_and_a_generic_one(FixTopic topic)
    {
        foreach (var sw in Enum.GetValues<SmtpSoftware>().Where(s => s != SmtpSoftware.Unknown))
        {
            Assert.True(RemediationTable.HasSpecific(topic, sw), $"{topic} has no fix for {sw}");
        }
        Assert.False(string.IsNullOrWhiteSpace(RemediationTable.For(topic, SmtpSoftware.Unknown)));
    }

    [Fact]
    public void An_accepted_long_line_is_a_warning_that_carries_the_fix()
    {
        var f = new Finding(LongDataLineCheck.Id, LongDataLineCheck.Title, CheckStatus.Pass, Severity.Low, "warning: accepted a 1001-octet text line (250); make sure it is not split or truncated when stored or relayed", null, FixTopic.LongDataLine, 25);
        Assert.Contains("smtp_line_length_limit", f.ToResult(SmtpSoftware.Postfix).Fix);
    }
}
