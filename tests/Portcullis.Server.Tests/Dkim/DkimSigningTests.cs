using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Portcullis.Server.Dkim;
using Portcullis.Server.Tests.Directory;

namespace Portcullis.Server.Tests.Dkim;

/// <summary>DKIM keys on disk and signatures over the queued bytes, verified with MimeKit's DkimVerifier.</summary>
public sealed class DkimSigningTests : IDisposable
{
    private readonly TempDataDir _data = new();

    public void Dispose() => _data.Dispose();

    private static byte[] Message(string from) => Encoding.ASCII.GetBytes(
        $"From: Alice <{from}>\r\nTo: <bob@remote.test>\r\nSubject: signed\r\nDate: Sat, 28 Nov 2026 01:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nBody.\r\n");

    /// <summary>Public keys straight from the key store's own TXT record text.</summary>
    private sealed class RecordLocator(DkimKey key) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => GetPublicKey(key.RecordValue);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) => Task.FromResult(GetPublicKey(key.RecordValue));
    }

    [Theory]
    [InlineData(DkimSignatureAlgorithm.RsaSha256, "a=rsa-sha256")]
    [InlineData(DkimSignatureAlgorithm.Ed25519Sha256, "a=ed25519-sha256")]
    public void A_generated_key_signs_mail_from_its_domain_and_the_bytes_after_the_signature_are_unchanged(DkimSignatureAlgorithm algorithm, string tag)
    {
        var key = new DkimKeyStore(_data.Path).Generate("Example.Test", "s1", algorithm);
        var original = Message("alice@EXAMPLE.test");
        var signed = new DkimSigning(_data.Path).Sign(original, out var domain).ToArray();

        Assert.Equal("example.test", domain);
        Assert.StartsWith("DKIM-Signature:", Encoding.ASCII.GetString(signed), StringComparison.Ordinal);
        Assert.True(signed.AsSpan().EndsWith(original), "the signature must be prepended to the message as it was");
        var text = Encoding.ASCII.GetString(signed);
        Assert.DoesNotMatch("(?<!\r)\n", text);
        var message = MimeMessage.Load(new MemoryStream(signed));
        var header = message.Headers[0];
        Assert.Contains(tag, header.Value, StringComparison.Ordinal);
        Assert.Contains("c=relaxed/relaxed", header.Value, StringComparison.Ordinal);
        Assert.Contains("d=example.test", header.Value, StringComparison.Ordinal);
        var verifier = new DkimVerifier(new RecordLocator(key));
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        Assert.True(verifier.Verify(message, header));
    }

    [Fact]
    public void Mail_from_a_domain_without_a_key_is_returned_unchanged()
    {
        new DkimKeyStore(_data.Path).Generate("example.test", "s1", DkimSignatureAlgorithm.RsaSha256);
        var original = Message("someone@other.test");
        var result = new DkimSigning(_data.Path).Sign(original, out var domain);
        Assert.Null(domain);
        Assert.True(result.Span.SequenceEqual(original));
        Assert.True(new DkimSigning(_data.Path).Sign(original, "other.test").Span.SequenceEqual(original));
    }

    [Fact]
    public void Keys_are_private_files_and_a_second_key_for_the_same_selector_is_refused()
    {
        var store = new DkimKeyStore(_data.Path);
        var key = store.Generate("example.test", "s1", DkimSignatureAlgorithm.RsaSha256);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key.Path));
        }
        Assert.Throws<DkimKeyException>(() => store.Generate("example.test", "s1", DkimSignatureAlgorithm.Ed25519Sha256));
        Assert.Throws<DkimKeyException>(() => store.Generate("not a domain", "s1", DkimSignatureAlgorithm.RsaSha256));
        Assert.StartsWith("s1._domainkey.example.test. IN TXT \"v=DKIM1; k=rsa; p=", key.ZoneLine(), StringComparison.Ordinal);
        // RFC 1035 §3.3.14: no TXT string longer than 255 octets.
        Assert.All(key.ZoneLine().Split('"').Where((_, i) => i % 2 == 1), s => Assert.True(s.Length <= 255));
        Assert.Single(store.List());
    }
}
