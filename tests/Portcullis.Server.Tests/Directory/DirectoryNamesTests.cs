using Portcullis.Server.Directory;

namespace Portcullis.Server.Tests.Directory;

public class DirectoryNamesTests
{
    [Theory]
    [InlineData("example.test", "example.test")]
    [InlineData("Example.TEST", "example.test")]
    [InlineData("  mail.example.test ", "mail.example.test")]
    [InlineData("a-b.c0.example", "a-b.c0.example")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    public void Valid_domains_are_stored_lower_case(string input, string stored) =>
        Assert.Equal(stored, DirectoryNames.NormalizeDomain(input));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("localhost", "single label")]
    [InlineData("example.test.", "ends with a dot")]
    [InlineData(".example.test", "empty label")]
    [InlineData("example..test", "empty label")]
    [InlineData("-a.example", "hyphen")]
    [InlineData("a-.example", "hyphen")]
    [InlineData("exa mple.test", "character other than")]
    [InlineData("exa_mple.test", "character other than")]
    [InlineData("example.test/../x", "character other than")]
    [InlineData("[127.0.0.1]", "address literal")]
    [InlineData("[IPv6:::1]", "address literal")]
    [InlineData("192.168.1.1", "looks like an IP address")]
    [InlineData("evil.example@good.example", "character other than")]
    public void Invalid_domains_are_refused_with_the_reason(string input, string reason)
    {
        var e = Assert.Throws<DirectoryException>(() => DirectoryNames.NormalizeDomain(input));
        Assert.Equal(DirectoryErrorKind.Invalid, e.Kind);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_domains_and_labels_are_refused()
    {
        Assert.Contains("label longer than 63", Assert.Throws<DirectoryException>(() => DirectoryNames.NormalizeDomain(new string('a', 64) + ".test")).Message, StringComparison.Ordinal);
        var long254 = string.Join('.', Enumerable.Repeat(new string('a', 50), 5)) + ".test"; // 50*5+4+5 = 259
        Assert.Contains("longer than 253", Assert.Throws<DirectoryException>(() => DirectoryNames.NormalizeDomain(long254)).Message, StringComparison.Ordinal);
        Assert.Equal(new string('a', 63) + ".test", DirectoryNames.NormalizeDomain(new string('a', 63) + ".test"));
    }

    [Theory]
    [InlineData("alice@example.test", "alice@example.test")]
    [InlineData("Alice@Example.Test", "alice@example.test")]
    [InlineData("first.last+tag@example.test", "first.last+tag@example.test")]
    [InlineData("a_b-c=d@example.test", "a_b-c=d@example.test")]
    public void Valid_addresses_are_stored_lower_case(string input, string stored) =>
        Assert.Equal(stored, DirectoryNames.NormalizeAddress(input));

    [Theory]
    [InlineData("alice", "no @domain")]
    [InlineData("@example.test", "empty local part")]
    [InlineData("alice@", "empty")]
    [InlineData("a@b@example.test", "more than one @")]
    [InlineData("<alice@example.test>", "angle brackets")]
    [InlineData("alice%evil.example@example.test", "'%'")]
    [InlineData("evil.example!alice@example.test", "'!'")]
    [InlineData("\"a@b\"@example.test", "more than one @")]
    [InlineData("\"alice\"@example.test", "character other than")]
    [InlineData("../x@example.test", "character other than")]
    [InlineData(".alice@example.test", "dot at the start")]
    [InlineData("alice.@example.test", "dot at the start")]
    [InlineData("al..ice@example.test", "dot at the start")]
    [InlineData("al ice@example.test", "character other than")]
    [InlineData("alice@example.test.", "ends with a dot")]
    [InlineData("alice@[127.0.0.1]", "address literal")]
    [InlineData("@relay.example:alice@example.test", "more than one @")]
    public void Invalid_addresses_are_refused_with_the_reason(string input, string reason)
    {
        var e = Assert.Throws<DirectoryException>(() => DirectoryNames.NormalizeAddress(input));
        Assert.Equal(DirectoryErrorKind.Invalid, e.Kind);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Local_part_longer_than_64_octets_is_refused()
    {
        Assert.Equal(new string('a', 64) + "@example.test", DirectoryNames.NormalizeAddress(new string('a', 64) + "@example.test"));
        Assert.Throws<DirectoryException>(() => DirectoryNames.NormalizeAddress(new string('a', 65) + "@example.test"));
    }
}
