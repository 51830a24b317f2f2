using Portcullis.Audit.Fingerprint;
using Portcullis.Audit.Remediation;
using Portcullis.Audit.Smtp.Checks;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class SmtpFingerprinterTests
{
    [Theory]
    [InlineData("220 relay-closed.peer.test ESMTP Postfix (Debian/GNU)", SmtpSoftware.Postfix, null)]
    [InlineData("220 mx.exim.test ESMTP Exim 4.96 Fri, 27 Nov 2026 23:00:00 +0000", SmtpSoftware.Exim, "4.96")]
    [InlineData("220 mail.example.com ESMTP Sendmail 8.15.2/8.15.2; Fri, 27 Nov 2026", SmtpSoftware.Sendmail, "8.15.2")]
    [InlineData("220 EX01.corp.example Microsoft ESMTP MAIL Service ready at Fri, 27 Nov 2026", SmtpSoftware.Exchange, null)]
    [InlineData("220 mx.opensmtpd.test ESMTP OpenSMTPD", SmtpSoftware.OpenSmtpd, null)]
    [InlineData("220 mx.example.org ESMTP Haraka/3.0.3 ready", SmtpSoftware.Haraka, "3.0.3")]
    [InlineData("220 mx.example.org ESMTP hMailServer", SmtpSoftware.HMailServer, null)]
    [InlineData("220 mx.example.org ESMTP Portcullis", SmtpSoftware.Portcullis, null)]
    [InlineData("220 mx.example.org ESMTP", SmtpSoftware.Unknown, null)]
    public void Greeting_names_the_software(string greeting, SmtpSoftware expected, string? version)
    {
        var fp = SmtpFingerprinter.Identify(greeting, null);
        Assert.Equal(expected, fp.Software);
        Assert.Equal(version, fp.Version);
    }

    [Fact]
    public void Exchange_is_recognised_by_its_ehlo_keywords_when_the_greeting_is_anonymous() =>
        Assert.Equal(SmtpSoftware.Exchange, SmtpFingerprinter.Identify("220 mx.example.org ESMTP", "250-mx.example.org Hello\n250-X-ANONYMOUSTLS\n250 XEXCH50").Software);

    [Fact]
    public void Qmail_and_postfix_are_recognised_by_reply_wording()
    {
        Assert.Equal(SmtpSoftware.Qmail, SmtpFingerprinter.Identify("220 mx ESMTP", null, ["553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"]).Software);
        Assert.Equal(SmtpSoftware.Postfix, SmtpFingerprinter.Identify("220 mx ESMTP", null, ["454 4.7.1 <a@b.test>: Relay access denied"]).Software);
    }

    [Fact]
    public void Every_problem_has_a_fix_for_every_software_and_the_main_ones_are_specific()
    {
        foreach (var topic in Enum.GetValues<FixTopic>())
        {
            foreach (var sw in Enum.GetValues<SmtpSoftware>())
            {
                Assert.False(string.IsNullOrWhiteSpace(RemediationTable.For(topic, sw)));
            }
        }
        foreach (var sw in new[] { SmtpSoftware.Postfix, SmtpSoftware.Exim, SmtpSoftware.Sendmail, SmtpSoftware.Exchange, SmtpSoftware.OpenSmtpd, SmtpSoftware.Qmail, SmtpSoftware.Haraka, SmtpSoftware.HMailServer, SmtpSoftware.Portcullis })
        {
            Assert.True(RemediationTable.HasSpecific(FixTopic.OpenRelay, sw), sw.ToString());
        }
        Assert.Contains("reject_unauth_destination", RemediationTable.For(FixTopic.OpenRelay, SmtpSoftware.Postfix));
        Assert.Contains("match from any for domain <local> action local", RemediationTable.For(FixTopic.OpenRelay, SmtpSoftware.OpenSmtpd));
    }

    [Theory]
    [InlineData(250, null, SmugglingOutcome.AcceptedAsEndOfData)]
    [InlineData(null, 250, SmugglingOutcome.StoredInMessage)]
    [InlineData(550, null, SmugglingOutcome.Refused)]
    [InlineData(null, 550, SmugglingOutcome.Refused)]
    public void Smuggling_is_judged_the_smtpsmug_way(int? afterBad, int? afterReal, SmugglingOutcome expected) =>
        Assert.Equal(expected, SmugglingCheck.Judge(afterBad, afterReal));
}
