using Portcullis.Smtp;

namespace Portcullis.Smtp.Tests;

public sealed class XtextTests
{
    [Theory]
    [InlineData("plain-id.42", "plain-id.42")]
    [InlineData("a+2Bb+3Dc", "a+b=c")]
    [InlineData("with+20space", "with space")]
    [InlineData("", "")]
    public void Xtext_decodes_its_hex_escapes(string xtext, string text) =>
        Assert.Equal(text, EsmtpParameters.DecodeXtext(xtext));

    [Theory]
    [InlineData("a=b")]           // "=" must be escaped (RFC 3461 §4)
    [InlineData("a+2")]           // an escape cut short
    [InlineData("a+2b")]          // hex digits are upper case
    [InlineData("a b")]           // space must be escaped
    [InlineData("x+0D+0ABcc:+20y")] // CR LF would start a header in the DSN
    [InlineData("nul+00")]
    [InlineData("del+7F")]
    [InlineData("latin+E9")]
    public void Xtext_that_is_malformed_or_stands_for_a_control_or_non_ascii_octet_is_refused(string xtext) =>
        Assert.Null(EsmtpParameters.DecodeXtext(xtext));
}
