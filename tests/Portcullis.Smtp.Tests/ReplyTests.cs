using System.Text;
using Portcullis.Smtp;

namespace Portcullis.Smtp.Tests;

public class ReplyTests
{
    [Fact]
    public void Single_line_reply_has_code_enhanced_code_and_text()
    {
        Assert.Equal("550 5.7.1 Relay access denied\r\n", Replies.RelayDenied.ToWire());
    }

    [Fact]
    public void Multi_line_reply_uses_dash_on_every_line_but_the_last()
    {
        var r = new SmtpReply(250, null, ["mx.test Hello", "PIPELINING", "SIZE 10"]);
        Assert.Equal("250-mx.test Hello\r\n250-PIPELINING\r\n250 SIZE 10\r\n", r.ToWire());
    }

    [Fact]
    public async Task Reply_reader_reassembles_a_multi_line_reply_and_lifts_the_enhanced_code()
    {
        var stream = new MemoryStream(Encoding.ASCII.GetBytes("250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n454 4.7.1 <x@y.test>: Relay access denied\r\n"));
        var reader = new SmtpReplyReader(stream);
        var ehlo = await reader.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(250, ehlo!.Code);
        Assert.Equal(["mx.test", "PIPELINING", "8BITMIME"], ehlo.Lines);
        var relay = await reader.ReadReplyAsync(CancellationToken.None);
        Assert.Equal(454, relay!.Code);
        Assert.Equal("4.7.1", relay.Enhanced);
        Assert.Null(await reader.ReadReplyAsync(CancellationToken.None));
    }

    [Fact]
    public void Enhanced_code_whose_class_does_not_match_the_reply_is_left_in_the_text()
    {
        var (e, rest) = SmtpReplyParser.SplitEnhanced(250, "5.7.1 odd");
        Assert.Null(e);
        Assert.Equal("5.7.1 odd", rest);
    }

    [Theory]
    [InlineData("mail FROM:<a@b.test>", SmtpVerb.Mail)]
    [InlineData("rCpT TO:<a@b.test>", SmtpVerb.Rcpt)]
    [InlineData("StartTLS", SmtpVerb.StartTls)]
    [InlineData("XYZZY", SmtpVerb.Unknown)]
    public void Verbs_are_case_insensitive(string line, SmtpVerb verb)
    {
        Assert.Equal(verb, SmtpCommand.Parse(line).Verb);
    }

    [Fact]
    public void From_keyword_is_case_insensitive_and_tolerates_a_space_after_the_colon()
    {
        Assert.Equal("<a@b.test>", SmtpCommand.AfterKeyword("from: <a@b.test>", "FROM"));
        Assert.Null(SmtpCommand.AfterKeyword("FROMX:<a@b.test>", "FROM"));
    }

    [Fact]
    public void Esmtp_parameters_reject_duplicates_and_bad_keywords()
    {
        Assert.True(EsmtpParameters.TryParse("SIZE=10 body=8BITMIME SMTPUTF8", out var p));
        Assert.Equal("8BITMIME", p["BODY"]);
        Assert.True(p.Has("smtputf8"));
        Assert.False(EsmtpParameters.TryParse("SIZE=1 SIZE=2", out _));
        Assert.False(EsmtpParameters.TryParse("-BAD=1", out _));
        Assert.False(EsmtpParameters.TryParse("SIZE=", out _));
    }
}
