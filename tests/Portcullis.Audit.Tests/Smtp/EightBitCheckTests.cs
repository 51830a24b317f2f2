using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Reporting;
using Portcullis.Audit.Smtp.Checks;
using Portcullis.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

/// <summary>Catalog §4 "8-bit without declaration": consistent = pass, inconsistent = fail, unknown = inconclusive.</summary>
public sealed class EightBitCheckTests
{
    [Theory]
    [InlineData(250, EightBitOutcome.Accepted)]
    [InlineData(554, EightBitOutcome.Refused)]
    [InlineData(550, EightBitOutcome.Refused)]
    [InlineData(451, EightBitOutcome.Unknown)]
    public void End_of_data_replies_are_classified(int code, EightBitOutcome expected) =>
        Assert.Equal(expected, EightBitCheck.Classify(new SmtpReply(code, null, "x")));

    [Fact]
    public void No_reply_is_unknown() => Assert.Equal(EightBitOutcome.Unknown, EightBitCheck.Classify(null));

    [Theory]
    [InlineData(EightBitOutcome.Accepted, EightBitOutcome.Accepted, CheckStatus.Pass)]
    [InlineData(EightBitOutcome.Refused, EightBitOutcome.Refused, CheckStatus.Pass)]
    [InlineData(EightBitOutcome.Accepted, EightBitOutcome.Refused, CheckStatus.Fail)] // e.g. Postfix with strict_7bit_headers alone
    [InlineData(EightBitOutcome.Refused, EightBitOutcome.Accepted, CheckStatus.Fail)]
    [InlineData(EightBitOutcome.Unknown, EightBitOutcome.Accepted, CheckStatus.Inconclusive)]
    [InlineData(EightBitOutcome.Refused, EightBitOutcome.Unknown, CheckStatus.Inconclusive)]
    public void Body_and_header_must_be_treated_alike(EightBitOutcome body, EightBitOutcome header, CheckStatus expected) =>
        Assert.Equal(expected, EightBitCheck.Judge(body, header));

    [Theory]
    [InlineData(FixTopic.NtlmInfo)]
    [InlineData(FixTopic.ReverseDns)]
    [InlineData(FixTopic.EightBit)]
    public void The_new_checks_have_a_fix_for_every_known_software_and_a_generic_one(FixTopic topic)
    {
        foreach (var sw in Enum.GetValues<SmtpSoftware>().Where(s => s != SmtpSoftware.Unknown))
        {
            Assert.True(RemediationTable.HasSpecific(topic, sw), $"{topic} has no fix for {sw}");
        }
        Assert.False(string.IsNullOrWhiteSpace(RemediationTable.For(topic, SmtpSoftware.Unknown)));
        Assert.NotEqual(RemediationTable.For(topic, SmtpSoftware.Unknown), RemediationTable.For(topic, SmtpSoftware.Postfix));
    }
}
