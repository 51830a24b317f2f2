using Portcullis.Smtp;

namespace Portcullis.Smtp.Tests;

public class PathParserTests
{
    [Theory]
    [InlineData("<alice@example.test>", "alice", "example.test")]
    [InlineData("<Alice.Smith+tag@Example.TEST>", "Alice.Smith+tag", "Example.TEST")]
    [InlineData("<\"john doe\"@example.test>", "john doe", "example.test")]
    [InlineData("<\"a\\\"b\"@example.test>", "a\"b", "example.test")]
    [InlineData("<user@[192.0.2.1]>", "user", "[192.0.2.1]")]
    [InlineData("<user@[IPv6:2001:db8::1]>", "user", "[IPv6:2001:db8::1]")]
    [InlineData("<Postmaster>", "Postmaster", "")]
    [InlineData("<user@example.test.>", "user", "example.test.")]
    [InlineData("<josé@exämple.test>", "josé", "exämple.test")]
    public void Valid_paths_parse_to_local_part_and_domain(string text, string local, string domain)
    {
        Assert.Equal(PathError.None, PathParser.TryParse(text, false, out var path, out _));
        Assert.Equal(local, path.Mailbox!.LocalPart);
        Assert.Equal(domain, path.Mailbox.Domain);
    }

    [Fact]
    public void Source_route_is_recognised_and_kept_apart_from_the_mailbox()
    {
        Assert.Equal(PathError.None, PathParser.TryParse("<@hosta.int,@jkl.org:userc@d.bar.org>", false, out var path, out _));
        Assert.Equal(["hosta.int", "jkl.org"], path.SourceRoute);
        Assert.Equal("userc@d.bar.org", path.Mailbox!.Address);
    }

    [Fact]
    public void Null_path_is_allowed_only_where_asked_for()
    {
        Assert.Equal(PathError.None, PathParser.TryParse("<>", true, out var p, out _));
        Assert.True(p.IsNull);
        Assert.Equal(PathError.Syntax, PathParser.TryParse("<>", false, out _, out _));
    }

    [Fact]
    public void Parameters_after_the_path_are_returned()
    {
        Assert.Equal(PathError.None, PathParser.TryParse("<a@b.test> SIZE=100 BODY=8BITMIME", true, out _, out var rest));
        Assert.Equal("SIZE=100 BODY=8BITMIME", rest);
    }

    [Theory]
    [InlineData("a@b.test", PathError.MissingBrackets)]
    [InlineData("<a@b.test", PathError.Syntax)]
    [InlineData("<a@b@c.test>", PathError.ExtraAt)]
    [InlineData("<a@b.test@>", PathError.ExtraAt)]
    [InlineData("<a..b@c.test>", PathError.Syntax)]
    [InlineData("<.a@c.test>", PathError.Syntax)]
    [InlineData("<a@>", PathError.Syntax)]
    [InlineData("<a@c..test>", PathError.Syntax)]
    [InlineData("<a@[300.1.1.1]>", PathError.Syntax)]
    [InlineData("<a@[IPv6:zz]>", PathError.Syntax)]
    [InlineData("<a b@c.test>", PathError.Syntax)]
    [InlineData("<a@c.test>x", PathError.Syntax)]
    [InlineData("<\"unterminated@c.test>", PathError.Syntax)]
    [InlineData("the dude <dude@example.com>", PathError.MissingBrackets)]
    [InlineData("<a\u0001@c.test>", PathError.ControlCharacter)]
    public void Invalid_paths_are_refused_with_the_reason(string text, PathError expected)
    {
        Assert.Equal(expected, PathParser.TryParse(text, false, out _, out _));
    }

    [Fact]
    public void Rfc5321_length_limits_are_enforced()
    {
        Assert.Equal(PathError.TooLong, PathParser.TryParse("<" + new string('a', 65) + "@b.test>", false, out _, out _));
        Assert.Equal(PathError.None, PathParser.TryParse("<" + new string('a', 64) + "@b.test>", false, out _, out _));
        var longDomain = string.Join(".", Enumerable.Repeat(new string('d', 60), 5)); // 304 octets
        Assert.Equal(PathError.TooLong, PathParser.TryParse("<a@" + longDomain + ">", false, out _, out _));
    }

    [Fact]
    public void Quoted_local_part_keeps_its_at_sign_visible_to_policy()
    {
        Assert.Equal(PathError.None, PathParser.TryParse("<\"relaytest@nmap.scanme.org\"@[192.0.2.25]>", false, out var p, out _));
        Assert.Equal("relaytest@nmap.scanme.org", p.Mailbox!.LocalPart);
        Assert.True(p.Mailbox.LocalPartWasQuoted);
        Assert.Equal("\"relaytest@nmap.scanme.org\"@[192.0.2.25]", p.Mailbox.Address);
    }
}
