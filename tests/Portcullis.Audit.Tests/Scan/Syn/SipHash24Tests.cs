using Portcullis.Audit.Scan.Syn;

namespace Portcullis.Audit.Tests.Scan.Syn;

/// <summary>SipHash-2-4 against the reference vectors of the SipHash paper (key 00..0f, message 00..len-1).</summary>
public class SipHash24Tests
{
    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(1, 0x74f839c593dc67fdUL)]
    [InlineData(8, 0x93f5f5799a932462UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    public void Hash_matches_the_reference_vectors(int length, ulong expected)
    {
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, SipHash24.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }
}
