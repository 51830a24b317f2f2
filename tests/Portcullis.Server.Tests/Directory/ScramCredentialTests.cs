using System.Security.Cryptography;
using System.Text;
using Portcullis.Server.Directory;

namespace Portcullis.Server.Tests.Directory;

public class ScramCredentialTests
{
    // RFC 7677 §3: user "user", password "pencil".
    private const string ClientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string ClientFinalWithoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string ExpectedProof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string ExpectedServerSignature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    private const string AuthMessage = ClientFirstBare + "," + ServerFirst + "," + ClientFinalWithoutProof;

    private static ScramCredential Rfc7677Credential() =>
        ScramCredential.Derive("pencil", Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);

    [Fact]
    public void Rfc7677_example_keys_give_the_example_client_proof()
    {
        var credential = Rfc7677Credential();
        // The client side of RFC 5802 §3, computed independently of the credential class.
        var salted = Rfc2898DeriveBytes.Pbkdf2("pencil"u8, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        Assert.Equal(SHA256.HashData(clientKey), credential.StoredKey.ToArray());

        // ClientSignature is computed from the credential's StoredKey, so the example's p= checks it.
        var clientSignature = HMACSHA256.HashData(credential.StoredKey, Encoding.UTF8.GetBytes(AuthMessage));
        var proof = clientKey.Zip(clientSignature, (a, b) => (byte)(a ^ b)).ToArray();
        Assert.Equal(ExpectedProof, Convert.ToBase64String(proof));
    }

    [Fact]
    public void Rfc7677_example_server_signature_matches_v()
    {
        var credential = Rfc7677Credential();
        Assert.Equal(ExpectedServerSignature, Convert.ToBase64String(credential.ComputeServerSignature(AuthMessage)));
    }

    [Fact]
    public void Rfc7677_example_client_proof_is_accepted_and_a_altered_one_refused()
    {
        var credential = Rfc7677Credential();
        var proof = Convert.FromBase64String(ExpectedProof);
        Assert.True(credential.VerifyClientProof(AuthMessage, proof));
        proof[0] ^= 1;
        Assert.False(credential.VerifyClientProof(AuthMessage, proof));
        Assert.False(credential.VerifyClientProof(AuthMessage + "x", Convert.FromBase64String(ExpectedProof)));
        Assert.False(credential.VerifyClientProof(AuthMessage, new byte[31]));
    }

    [Fact]
    public void Rfc7677_example_verifies_pencil_and_nothing_else()
    {
        var credential = Rfc7677Credential();
        Assert.True(credential.VerifyPassword("pencil"));
        Assert.False(credential.VerifyPassword("Pencil"));
        Assert.False(credential.VerifyPassword("pencil "));
        Assert.False(credential.VerifyPassword(""));
    }

    [Fact]
    public void Rfc7677_example_serializes_as_postgresql_does()
    {
        var text = Rfc7677Credential().ToString();
        Assert.StartsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$", text, StringComparison.Ordinal);
        var parsed = ScramCredential.Parse(text);
        Assert.Equal(text, parsed.ToString());
        Assert.Equal(ExpectedServerSignature, Convert.ToBase64String(parsed.ComputeServerSignature(AuthMessage)));
    }

    [Fact]
    public void New_credential_has_random_16_byte_salt_and_100000_iterations()
    {
        var a = ScramCredential.Create("correct horse");
        var b = ScramCredential.Create("correct horse");
        Assert.Equal(16, a.Salt.Length);
        Assert.Equal(100_000, a.Iterations);
        Assert.NotEqual(a.SaltBase64, b.SaltBase64);
        Assert.NotEqual(a.ToString(), b.ToString());
        Assert.True(a.VerifyPassword("correct horse"));
        Assert.True(ScramCredential.Parse(a.ToString()).VerifyPassword("correct horse"));
        Assert.False(a.VerifyPassword("correct horse!"));
        Assert.DoesNotContain("correct horse", a.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void New_credential_refuses_fewer_than_100000_iterations_and_empty_passwords()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ScramCredential.Create("pw", 4096));
        Assert.Throws<ArgumentException>(() => ScramCredential.Create(""));
        Assert.Equal(200_000, ScramCredential.Create("pw", 200_000).Iterations);
    }

    [Fact]
    public void Non_ascii_password_round_trips()
    {
        var c = ScramCredential.Create("pässwörd €");
        Assert.True(ScramCredential.Parse(c.ToString()).VerifyPassword("pässwörd €"));
        Assert.False(c.VerifyPassword("passwort €"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("scram-sha-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$04096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$ 4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$x")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ")]
    [InlineData("pencil")]
    public void Parse_refuses_malformed_text(string text)
    {
        Assert.False(ScramCredential.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ScramCredential.Parse(text));
    }

    [Fact]
    public void Parse_accepts_a_well_formed_text()
    {
        const string text = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        Assert.True(ScramCredential.TryParse(text, out var c));
        Assert.Equal(4096, c.Iterations);
        Assert.Equal(text, c.ToString());
    }
}
