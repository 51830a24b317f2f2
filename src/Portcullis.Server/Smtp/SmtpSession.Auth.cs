using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Auth;
using Portcullis.Server.Directory;
using Portcullis.Server.Policy;
using Portcullis.Smtp;

namespace Portcullis.Server.Smtp;

/// <summary>AUTH (RFC 4954) on the submission listeners: PLAIN, LOGIN and SCRAM-SHA-256, inside TLS only.</summary>
public sealed partial class SmtpSession
{
    private const int MaxAuthLine = 12288; // RFC 4954 §4

    private static readonly SmtpReply AuthOk = new(235, "2.7.0", "Authentication successful");
    private static readonly SmtpReply AuthInvalid = new(535, "5.7.8", "Authentication credentials invalid");
    private static readonly SmtpReply AuthLockedOut = new(454, "4.7.0", "Too many authentication failures; try again later");
    private static readonly SmtpReply AuthCancelled = new(501, "5.0.0", "Authentication cancelled");
    private static readonly SmtpReply AuthBadResponse = new(501, "5.5.2", "Cannot decode the response");
    private static readonly SmtpReply AuthEncryptionRequired = new(538, "5.7.11", "Encryption required for requested authentication mechanism");
    private static readonly SmtpReply AuthUnknownMechanism = new(504, "5.5.4", "Unrecognized authentication type");
    private static readonly SmtpReply AuthAlready = new(503, "5.5.1", "Already authenticated");

    private bool OffersAuth => _listener != ListenerKind.Mx && _tls;

    private async Task<SmtpReply?> AuthAsync(string argument, CancellationToken ct)
    {
        if (_listener == ListenerKind.Mx)
        {
            return Replies.NotImplemented; // no AUTH on the MX: authentication belongs to submission
        }
        if (!_tls)
        {
            return AuthEncryptionRequired; // RFC 4954 §4: no plaintext passwords outside TLS
        }
        if (_authenticatedUser is not null)
        {
            return AuthAlready;
        }
        var sp = argument.IndexOf(' ');
        var mechanism = (sp < 0 ? argument : argument[..sp]).ToUpperInvariant();
        var initial = sp < 0 ? null : argument[(sp + 1)..];
        var client = Client.Address;
        var attempt = mechanism switch
        {
            "PLAIN" => await PlainAsync(initial, ct).ConfigureAwait(false),
            "LOGIN" => await LoginAsync(initial, ct).ConfigureAwait(false),
            "SCRAM-SHA-256" => await ScramAsync(initial, client, ct).ConfigureAwait(false),
            _ => new AuthAttempt(null, AuthUnknownMechanism),
        };
        if (attempt.Reply is not null)
        {
            return attempt.Reply;
        }
        _authenticatedUser = attempt.User;
        LogAuth(_remote.ToString(), attempt.User!, mechanism);
        _server.Metrics.Authenticated(_listener, mechanism, ok: true);
        return AuthOk;
    }

    private readonly record struct AuthAttempt(string? User, SmtpReply? Reply);

    /// <summary>Reads one SASL response line: base64, or "*" to cancel (RFC 4954 §4). Null = cancelled or undecodable (reply set).</summary>
    private async Task<(string? Text, SmtpReply? Reply)> ReadSaslAsync(string? challenge, CancellationToken ct)
    {
        await ReplyAsync(new SmtpReply(334, null, challenge is null ? "" : Convert.ToBase64String(Encoding.UTF8.GetBytes(challenge)))).ConfigureAwait(false);
        _timeout.CancelAfter(Limits.CommandTimeout);
        BeginWaitingForClient();
        var line = await _input.ReadCommandAsync(MaxAuthLine, ct).ConfigureAwait(false);
        EndWaitingForClient();
        if (line.Kind == LineKind.EndOfStream)
        {
            throw new IOException("client left during AUTH");
        }
        if (line.Kind != LineKind.Line)
        {
            return (null, AuthBadResponse);
        }
        if (line.Text == "*")
        {
            return (null, AuthCancelled);
        }
        return Decode(line.Text);
    }

    private static (string? Text, SmtpReply? Reply) Decode(string base64)
    {
        if (base64 == "=")
        {
            return ("", null); // RFC 4954 §4: "=" is an empty initial response
        }
        try
        {
            return (Encoding.UTF8.GetString(Convert.FromBase64String(base64)), null);
        }
        catch (FormatException)
        {
            return (null, AuthBadResponse);
        }
    }

    private async Task<AuthAttempt> PlainAsync(string? initial, CancellationToken ct)
    {
        var (text, bad) = initial is null ? await ReadSaslAsync(null, ct).ConfigureAwait(false) : Decode(initial);
        if (bad is not null)
        {
            return new AuthAttempt(null, bad);
        }
        // RFC 4616: [authzid] NUL authcid NUL passwd. An authzid other than the user itself is refused.
        var parts = text!.Split('\0');
        if (parts.Length != 3 || (parts[0].Length > 0 && !parts[0].Equals(parts[1], StringComparison.OrdinalIgnoreCase)))
        {
            return new AuthAttempt(null, AuthBadResponse);
        }
        return await CheckPasswordAsync(parts[1], parts[2], "PLAIN", ct).ConfigureAwait(false);
    }

    private async Task<AuthAttempt> LoginAsync(string? initial, CancellationToken ct)
    {
        var (user, bad) = initial is null ? await ReadSaslAsync("Username:", ct).ConfigureAwait(false) : Decode(initial);
        if (bad is not null)
        {
            return new AuthAttempt(null, bad);
        }
        var (password, bad2) = await ReadSaslAsync("Password:", ct).ConfigureAwait(false);
        if (bad2 is not null)
        {
            return new AuthAttempt(null, bad2);
        }
        return await CheckPasswordAsync(user!, password!, "LOGIN", ct).ConfigureAwait(false);
    }

    private async Task<AuthAttempt> CheckPasswordAsync(string user, string password, string mechanism, CancellationToken ct)
    {
        var client = Client.Address;
        var verdict = _server.Throttle.Check(client, user);
        if (verdict.LockedOut)
        {
            LogAuthFailed(_remote.ToString(), user, mechanism, verdict.RecentFailures, "locked-out");
            _server.Metrics.Authenticated(_listener, mechanism, ok: false);
            return new AuthAttempt(null, AuthLockedOut);
        }
        var credential = await _server.FindCredential(user, ct).ConfigureAwait(false);
        // PBKDF2 runs on the thread pool; an unknown user costs the same as a wrong password.
        var ok = await Task.Run(() => credential is not null ? credential.VerifyPassword(password) : ScramCredential.Derive(password, new byte[16], ScramCredential.DefaultIterations) is null, ct).ConfigureAwait(false);
        if (ok)
        {
            return new AuthAttempt(DirectorySnapshot.Normalize(user), null);
        }
        return await FailAsync(user, mechanism, verdict, ct).ConfigureAwait(false);
    }

    private async Task<AuthAttempt> FailAsync(string user, string mechanism, ThrottleVerdict verdict, CancellationToken ct)
    {
        var failures = _server.Throttle.RecordFailure(Client.Address, user);
        LogAuthFailed(_remote.ToString(), user, mechanism, failures, "bad-credentials");
        _server.Metrics.Authenticated(_listener, mechanism, ok: false);
        await Task.Delay(verdict.DelayOnFailure, ct).ConfigureAwait(false);
        return new AuthAttempt(null, AuthInvalid);
    }

    private async Task<AuthAttempt> ScramAsync(string? initial, System.Net.IPAddress client, CancellationToken ct)
    {
        var (first, bad) = initial is null ? await ReadSaslAsync(null, ct).ConfigureAwait(false) : Decode(initial);
        if (bad is not null)
        {
            return new AuthAttempt(null, bad);
        }
        var scram = new ScramServer();
        var user = scram.ParseClientFirst(first!);
        if (user is null)
        {
            return new AuthAttempt(null, AuthBadResponse);
        }
        var verdict = _server.Throttle.Check(client, user);
        if (verdict.LockedOut)
        {
            LogAuthFailed(_remote.ToString(), user, "SCRAM-SHA-256", verdict.RecentFailures, "locked-out");
            _server.Metrics.Authenticated(_listener, "SCRAM-SHA-256", ok: false);
            return new AuthAttempt(null, AuthLockedOut);
        }
        var credential = await _server.FindCredential(user, ct).ConfigureAwait(false);
        var (final, bad2) = await ReadSaslAsync(scram.ServerFirst(credential), ct).ConfigureAwait(false);
        if (bad2 is not null)
        {
            return new AuthAttempt(null, bad2);
        }
        var serverFinal = scram.VerifyClientFinal(final!, credential);
        if (serverFinal is null)
        {
            return await FailAsync(user, "SCRAM-SHA-256", verdict, ct).ConfigureAwait(false);
        }
        // RFC 5802 §5: the server signature goes to the client, which answers with an empty response.
        var (_, bad3) = await ReadSaslAsync(serverFinal, ct).ConfigureAwait(false);
        if (bad3 is not null)
        {
            return new AuthAttempt(null, bad3);
        }
        return new AuthAttempt(DirectorySnapshot.Normalize(user), null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "auth ok client={Client} user={User} mechanism={Mechanism}")]
    private partial void LogAuth(string client, string user, string mechanism);

    [LoggerMessage(Level = LogLevel.Warning, Message = "auth failed client={Client} user={User} mechanism={Mechanism} failures={Failures} reason={Reason}")]
    private partial void LogAuthFailed(string client, string user, string mechanism, int failures, string reason);
}
