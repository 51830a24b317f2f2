using Portcullis.Audit.Scan.Syn;

namespace Portcullis.Audit.Tests.Scan.Syn;

/// <summary>Stateless validation of replies: only an acknowledgment of exactly our sequence number + 1 counts.</summary>
public class SynCookieTests
{
    private const uint Target = 0x7f100005, Source = 0x7f000001;

    [Fact]
    public void The_sequence_is_siphash_of_target_source_and_ports()
    {
        var cookie = new SynCookie(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL);
        // Message: target (4 bytes), source (4), target port (2), source port (2), all big-endian.
        byte[] message = [0x7f, 0x10, 0x00, 0x05, 0x7f, 0x00, 0x00, 0x01, 0x1f, 0x90, 0x30, 0x39];
        Assert.Equal((uint)SipHash24.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message), cookie.SequenceFor(Target, 8080, Source, 12345));
    }

    [Fact]
    public void A_reply_acknowledging_sequence_plus_one_is_accepted_and_any_other_is_not()
    {
        var cookie = SynCookie.CreateRandom();
        var seq = cookie.SequenceFor(Target, 25, Source, 40000);
        Assert.True(cookie.Acknowledges(Target, 25, Source, 40000, unchecked(seq + 1)));
        Assert.False(cookie.Acknowledges(Target, 25, Source, 40000, seq));
        Assert.False(cookie.Acknowledges(Target, 25, Source, 40000, unchecked(seq + 2)));
        Assert.False(cookie.Acknowledges(Target, 26, Source, 40000, unchecked(seq + 1)));
        Assert.False(cookie.Acknowledges(Target + 1, 25, Source, 40000, unchecked(seq + 1)));
        Assert.False(cookie.Acknowledges(Target, 25, Source, 40001, unchecked(seq + 1)));
        Assert.False(cookie.Acknowledges(Target, 25, Source + 1, 40000, unchecked(seq + 1)));
    }

    [Fact]
    public void Another_scan_key_gives_other_sequence_numbers()
    {
        var a = SynCookie.CreateRandom();
        var b = SynCookie.CreateRandom();
        var differ = Enumerable.Range(1, 64).Count(p => a.SequenceFor(Target, p, Source, 40000) != b.SequenceFor(Target, p, Source, 40000));
        Assert.True(differ >= 63, $"only {differ} of 64 sequence numbers differ between two keys");
    }
}
