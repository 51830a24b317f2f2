using System.Security.Cryptography;
using System.Text;
using Portcullis.Server.Directory;

namespace Portcullis.Server.Auth;

/// <summary>
/// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: parses the client's
/// first and final messages, checks the proof against the stored credential and produces the server
/// signature. For an unknown user it answers with a fake but stable salt so that the exchange does not
/// reveal which accounts exist (RFC 5802 §5.1).
/// </summary>
public sealed class ScramServer
{
    private static readonly byte[] FakeSaltKey = RandomNumberGenerator.GetBytes(32);

    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;

    public string? UserName { get; private set; }

    /// <summary>Parses "n,,n=user,r=nonce". Returns null on a malformed message or a channel-binding request.</summary>
    public string? ParseClientFirst(string message)
    {
        // gs2-header: "n" (no channel binding) or "y" (client supports it, we do not offer it); "p=" is refused.
        if (!(message.StartsWith("n,", StringComparison.Ordinal) || message.StartsWith("y,", StringComparison.Ordinal)))
        {
            return null;
        }
        var second = message.IndexOf(',', 2);
        if (second < 0)
        {
            return null;
        }
        var authzid = message[2..second];
        if (authzid.Length > 0 && !authzid.StartsWith("a=", StringComparison.Ordinal))
        {
            return null;
        }
        _clientFirstBare = message[(second + 1)..];
        string? user = null;
        string? nonce = null;
        foreach (var attr in _clientFirstBare.Split(','))
        {
            if (attr.StartsWith("n=", StringComparison.Ordinal))
            {
                user = attr[2..].Replace("=2C", ",", StringComparison.Ordinal).Replace("=3D", "=", StringComparison.Ordinal);
            }
            else if (attr.StartsWith("r=", StringComparison.Ordinal))
            {
                nonce = attr[2..];
            }
            else if (attr.StartsWith("m=", StringComparison.Ordinal))
            {
                return null; // mandatory extension we do not know (RFC 5802 §5.1)
            }
        }
        if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(nonce))
        {
            return null;
        }
        UserName = user;
        return user;
    }

    /// <summary>"r=clientnonce+servernonce,s=salt,i=iterations" for the user's credential (or a fake one).</summary>
    public string ServerFirst(ScramCredential? credential)
    {
        var clientNonce = _clientFirstBare!.Split(',').First(a => a.StartsWith("r=", StringComparison.Ordinal))[2..];
        _nonce = clientNonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        var salt = credential is not null ? credential.SaltBase64 : Convert.ToBase64String(HMACSHA256.HashData(FakeSaltKey, Encoding.UTF8.GetBytes(UserName!))[..16]);
        var iterations = credential?.Iterations ?? ScramCredential.DefaultIterations;
        _serverFirst = $"r={_nonce},s={salt},i={iterations}";
        return _serverFirst;
    }

    /// <summary>
    /// Checks "c=biws,r=nonce,p=proof". Returns the server-final message ("v=signature") when the proof is
    /// right, null otherwise (also for an unknown user, after the same work).
    /// </summary>
    public string? VerifyClientFinal(string message, ScramCredential? credential)
    {
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0 || _serverFirst is null)
        {
            return null;
        }
        var withoutProof = message[..proofAt];
        var attrs = withoutProof.Split(',');
        var channel = attrs.FirstOrDefault(a => a.StartsWith("c=", StringComparison.Ordinal));
        var nonce = attrs.FirstOrDefault(a => a.StartsWith("r=", StringComparison.Ordinal));
        // c= must be the base64 of the gs2 header we were sent without channel binding data: "n,," -> biws, "y,," -> eSws.
        if (channel is not ("c=biws" or "c=eSws") || nonce != "r=" + _nonce)
        {
            return null;
        }
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            return null;
        }
        var authMessage = _clientFirstBare + "," + _serverFirst + "," + withoutProof;
        if (credential is null || !credential.VerifyClientProof(authMessage, proof))
        {
            return null;
        }
        return "v=" + Convert.ToBase64String(credential.ComputeServerSignature(authMessage));
    }
}
