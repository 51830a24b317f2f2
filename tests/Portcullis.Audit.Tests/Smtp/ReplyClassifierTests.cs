using Portcullis.Audit.Smtp;
using Portcullis.Smtp;

namespace Portcullis.Audit.Tests.Smtp;

public sealed class ReplyClassifierTests
{
    private static SmtpReply R(string line)
    {
        SmtpReplyParser.TryParseLine(line, out var code, out _, out var text);
        return SmtpReplyParser.Build(code, [text]);
    }

    [Theory]
    [InlineData("454 4.7.1 <x@y.test>: Relay access denied", RelayReplyClass.Refused)] // stock Postfix
    [InlineData("550 relay not permitted", RelayReplyClass.Refused)] // Exim
    [InlineData("550 5.7.1 Relaying denied", RelayReplyClass.Refused)]
    [InlineData("451 4.7.1 Service unavailable - try again later", RelayReplyClass.Refused)]
    [InlineData("450 4.2.0 <x@y.test>: Recipient address rejected: Greylisted", RelayReplyClass.Deferred)]
    [InlineData("451 4.3.0 Temporary lookup failure", RelayReplyClass.Deferred)]
    [InlineData("421 Service not available", RelayReplyClass.Deferred)]
    [InlineData("250 2.1.5 Ok", RelayReplyClass.Accepted)]
    [InlineData("251 User not local; will forward", RelayReplyClass.Accepted)]
    [InlineData("530 5.7.0 Authentication required", RelayReplyClass.Refused)]
    [InlineData("354 go ahead", RelayReplyClass.Unexpected)]
    public void Replies_are_classified_for_relay_tests(string line, RelayReplyClass expected) =>
        Assert.Equal(expected, ReplyClassifier.Classify(R(line)));

    [Fact]
    public void A_250_whose_text_contains_530_is_still_accepted_unlike_nmaps_unanchored_match() =>
        Assert.Equal(RelayReplyClass.Accepted, ReplyClassifier.Classify(R("250 2.0.0 Ok: queued as 530ABC")));
}
