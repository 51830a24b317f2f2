using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
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

    /// <summary>RFC 3461 §4's encoding, written here independently: "+", "=" and anything outside 33-126 as "+XX".</summary>
    private static string Encode(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text)
        {
            sb.Append(c is > ' ' and <= '~' and not '+' and not '=' ? c.ToString() : $"+{(int)c:X2}");
        }
        return sb.ToString();
    }

    private static Arbitrary<string> PrintableText() =>
        Gen.ArrayOf(Gen.Choose(32, 126).Select(i => (char)i)).Select(a => new string(a)).ToArbitrary();

    private static Arbitrary<string> XtextishStrings() =>
        Gen.ArrayOf(Gen.Elements("+=09AFaf \r\n\0xé".ToCharArray())).Select(a => new string(a)).ToArbitrary();

    [Property(MaxTest = 2000)]
    public Property Any_printable_text_survives_encoding_and_decoding() =>
        Prop.ForAll(PrintableText(), text => EsmtpParameters.DecodeXtext(Encode(text)) == text);

    [Property(MaxTest = 2000)]
    public Property Decoding_never_throws_and_never_yields_a_control_character() =>
        Prop.ForAll(XtextishStrings(), s => EsmtpParameters.DecodeXtext(s) is not { } text || text.All(c => c is >= ' ' and <= '~'));
}
